// deno-lint-ignore-file no-console
/**
 * LoggingPlugin: one line per lifecycle event, so you can watch the order
 * in which hooks fire.
 */
import type { Plugin } from "../../src/hooks/mod.ts";

/** Print job lifecycle events. */
export const loggingPlugin: Plugin = {
  name: "logging",
  hooks: {
    "job:start": (ctx) =>
      console.log(`[hooks] start    job ${ctx.job.id} ${JSON.stringify(ctx.job.payload)}`),
    "job:complete": (ctx) =>
      console.log(
        `[hooks] ${ctx.skipped ? "skipped " : "complete"} job ${ctx.job.id} (${ctx.durationMs} ms)`,
      ),
    "job:fail": (ctx) =>
      console.log(
        `[hooks] fail     job ${ctx.job.id}: ${ctx.error} ` +
          `(attempt ${ctx.attempts}/${ctx.maxAttempts}${ctx.permanent ? ", permanent" : ""})`,
      ),
    "job:retry": (ctx) =>
      console.log(`[hooks] retry    job ${ctx.job.id} at ${ctx.runAt.toISOString()}`),
    beforeJobSchedule: (ctx) => {
      console.log(`[hooks] schedule ${ctx.identifier} ${JSON.stringify(ctx.payload)}`);
      return undefined;
    },
  },
};
