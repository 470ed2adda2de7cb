/**
 * ValidationPlugin: a `beforeJobRun` interceptor that reads the stored
 * payload and skips the job (`skip: true`), fails it (`force_fail: true`),
 * or lets it run.
 */
// Until mod.ts re-exports src/hooks/mod.ts, import the hooks layer directly.
import { definePlugin, type Plugin } from "../../src/hooks/mod.ts";

/** Skip or fail jobs from their payload's `skip` / `force_fail` fields. */
export const validationPlugin: Plugin = definePlugin({
  name: "validation",
  hooks: {
    beforeJobRun(ctx) {
      const payload = ctx.job.payload as { skip?: boolean; force_fail?: boolean };
      if (payload.skip === true) return { skip: true };
      if (payload.force_fail === true) return { fail: "force_fail was set in the payload" };
      return undefined; // continue
    },
  },
});
