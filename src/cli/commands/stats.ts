/**
 * `spool stats`: job counts by state on one line, for scripts and prompts.
 *
 * @module
 */
import { JOB_STATES, type JobState } from "../../sql/admin_jobs.ts";
import { adminStateCounts } from "../../sql/admin_overview.ts";
import type { Command } from "../command.ts";
import { printJson } from "../output.ts";

/** `spool stats`. */
export const statsCommand: Command = {
  name: "stats",
  summary: "Count jobs by state, on one line",
  description: "States (one definition, shared with the admin API): ready (a worker can take " +
    "it now), blocked (due, but its named queue is locked), scheduled (run_at in the future, " +
    "never tried), retrying (failed before, waiting out its backoff), running (locked by a " +
    "worker), failed (no attempts left). An exact count: one scan of the jobs table.",
  db: true,
  json: true,
  examples: ["stats", "stats --json | jq .failed"],
  async run(ctx) {
    const utils = await ctx.utils();
    const { rows } = await adminStateCounts(await utils.getDriver(), utils.schema, null);
    const counts = Object.fromEntries(JOB_STATES.map((st) => [st, 0])) as Record<JobState, number>;
    for (const r of rows) if (r.kind === "all") counts[r.state] += r.n;
    const total = JOB_STATES.reduce((sum, s) => sum + counts[s], 0);
    if (ctx.json) printJson(ctx.io, { ...counts, total });
    else ctx.io.out(JOB_STATES.map((s) => `${s}=${counts[s]}`).join(" ") + ` total=${total}\n`);
    return 0;
  },
};
