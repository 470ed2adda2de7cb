/**
 * A tasks module for `spool run --tasks ./tasks.ts`. The default export is a
 * factory: it gets defineTask and zod from the CLI itself, so this file has
 * no imports and also loads in a compiled `spool` binary.
 */
import type { AnyTaskDefinition } from "../../mod.ts";
import type { TaskKit } from "../../cli.ts";

export default ({ defineTask, z }: TaskKit): AnyTaskDefinition[] => [
  defineTask({
    identifier: "send_email",
    payload: z.object({ to: z.string(), subject: z.string() }),
    run(payload, ctx) {
      ctx.logger.info(`would send "${payload.subject}" to ${payload.to}`);
    },
  }),
];
