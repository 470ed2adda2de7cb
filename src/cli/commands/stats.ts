/**
 * `spool stats`: job counts by state on one line, for scripts and prompts.
 *
 * @module
 */
import { JOB_STATES, jobsCountByState } from "../../sql/job_states.ts";
import type { Command } from "../command.ts";
import { printJson } from "../output.ts";

/** `spool stats`. */
export const statsCommand: Command = {
  name: "stats",
  summary: "Count jobs by state, on one line",
  description: "States: ready (runnable now), scheduled (run_at in the future, never tried), " +
    "retrying (waiting for its retry), running (locked by a worker), failed (no attempts left).",
  db: true,
  json: true,
  examples: ["stats", "stats --json | jq .failed"],
  async run(ctx) {
    const utils = ctx.utils();
    const counts = await jobsCountByState(await utils.getDriver(), utils.schema);
    const total = JOB_STATES.reduce((sum, s) => sum + counts[s], 0);
    if (ctx.json) printJson(ctx.io, { ...counts, total });
    else ctx.io.out(JOB_STATES.map((s) => `${s}=${counts[s]}`).join(" ") + ` total=${total}\n`);
    return 0;
  },
};
