/**
 * `spool migrate`: install or upgrade the worker schema; `--dry-run` lists
 * what would run and changes nothing.
 *
 * @module
 */
import { planMigrations } from "../../migrate/plan.ts";
import type { Command } from "../command.ts";
import { printJson, table } from "../output.ts";

/** `spool migrate`. */
export const migrateCommand: Command = {
  name: "migrate",
  summary: "Install or upgrade the worker schema",
  description: "Safe to run from several processes at once; each pending migration runs in its " +
    "own transaction.",
  db: true,
  json: true,
  flags: {
    "dry-run": { type: "boolean", help: "list the migrations that would run; change nothing" },
  },
  examples: ["migrate --dry-run", "migrate --database postgres://app@db/app --schema jobs"],
  async run(ctx) {
    const utils = await ctx.utils();
    if (ctx.flags["dry-run"]) {
      const plan = await planMigrations(await utils.getDriver(), utils.schema);
      if (ctx.json) printJson(ctx.io, { schema: utils.schema, ...plan });
      else {
        const at = plan.current === null ? "not installed" : `at migration ${plan.current}`;
        ctx.io.out(`Schema "${utils.schema}" is ${at}; ${plan.pending.length} to run.\n`);
        if (plan.pending.length > 0) {
          ctx.io.out(table(
            ["ID", "NAME", "BREAKING"],
            plan.pending.map((m) => [m.id, m.name, m.breaking ? "yes" : "no"]),
          ));
        }
      }
      return 0;
    }
    const result = await utils.migrate();
    if (ctx.json) printJson(ctx.io, { schema: utils.schema, ...result });
    else if (result.applied.length === 0) {
      ctx.io.out(`Schema "${utils.schema}" is up to date (migration ${result.previous}).\n`);
    } else {
      ctx.io.out(
        `Applied ${result.applied.length} migration(s) to "${utils.schema}": ` +
          `${result.applied.join(", ")}.\n`,
      );
    }
    return 0;
  },
};
