/**
 * `spool crontab check <file>`: parse crontab text the way the worker does
 * and print each item's next runs. Needs no database.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { parseCrontab } from "../../cron/crontab_parser.ts";
import type { CronItem } from "../../cron/types.ts";
import { ValidationError } from "../../errors.ts";
import { toInt } from "../args.ts";
import type { Command } from "../command.ts";
import { resolvePath } from "../config.ts";
import { printJson } from "../output.ts";

const MINUTE = 60_000;
/** How far ahead to look for runs (a Feb 29 schedule needs up to 8 years). */
const HORIZON = 8 * 366 * 24 * 60 * MINUTE;

/** The next `count` minutes (after `from`) at which `item` fires. */
export function nextRuns(item: CronItem, from: number, count: number): Date[] {
  const runs: Date[] = [];
  const start = Math.floor(from / MINUTE) * MINUTE + MINUTE;
  for (let ts = start; ts < start + HORIZON && runs.length < count; ts += MINUTE) {
    if (item.schedule.matches(ts)) runs.push(new Date(ts));
  }
  return runs;
}

const iso = (d: Date) => d.toISOString().replace(/:00\.000Z$/, "Z");

/** `spool crontab check`. */
export const crontabCheckCommand: Command = {
  name: "crontab check",
  summary: "Check a crontab file and print each item's next runs",
  description: "The file uses graphile-worker's crontab format (the worker's --crontab-file). " +
    "Exit code 1 when it does not parse (the message names the line and column).",
  args: "<file>",
  positionals: [1, 1],
  json: true,
  flags: {
    runs: { type: "string", short: "n", value: "N", help: "how many runs to show per item [5]" },
  },
  examples: ["crontab check ./crontab", "crontab check ./crontab --json"],
  async run(ctx) {
    const count = ctx.flags.runs === undefined ? 5 : toInt(ctx.flags.runs, "--runs", 1, 100);
    const [file] = ctx.positionals;
    let text: string;
    try {
      text = await readFile(resolvePath(ctx.io, file), "utf8");
    } catch (error) {
      ctx.io.err(`spool: cannot read ${file}: ${(error as Error).message}\n`);
      return 1;
    }
    let items: CronItem[];
    try {
      items = parseCrontab(text, file);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      ctx.io.err(`spool: ${error.message}\n`);
      return 1;
    }
    const now = Date.now();
    const report = items.map((item) => ({
      identifier: item.identifier,
      task: item.task,
      expression: item.schedule.expression,
      timezone: item.schedule.timezone ?? "UTC",
      fill: item.fill,
      options: item.options,
      payload: item.payload,
      nextRuns: nextRuns(item, now, count),
    }));
    if (ctx.json) {
      printJson(ctx.io, report);
      return 0;
    }
    if (report.length === 0) ctx.io.out(`${file}: no items.\n`);
    for (const r of report) {
      const name = r.identifier === r.task ? r.task : `${r.identifier} (task ${r.task})`;
      const fill = r.fill > 0 ? `, backfill ${Math.round(r.fill / MINUTE)} min` : "";
      ctx.io.out(`${name}: ${r.expression} ${r.timezone}${fill}\n`);
      ctx.io.out(
        r.nextRuns.length === 0
          ? "  (no run in the next 8 years)\n"
          : r.nextRuns.map((d) => `  ${iso(d)}\n`).join(""),
      );
    }
    return 0;
  },
};
