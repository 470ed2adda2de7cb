// deno-lint-ignore-file no-console
/**
 * Recurring jobs: `deno run -A examples/crontab.ts` (or `bun examples/crontab.ts`).
 *
 * Two ways to declare a schedule, side by side:
 * - typed: `cron.everyNMinutes(sayHello, 2)` with a backfill window (`fill`), a job key for
 *   deduplication in `preserve_run_at` mode, and a typed payload (checked against the task);
 * - crontab text (graphile-worker's format) with Spool's `?tz=` option: every minute, and
 *   09:00 on weekdays in Paris time, summer and winter.
 *
 * It prints the next runs of each item, then runs the worker until the first cron job has
 * run (at most about a minute, at the next minute boundary) and stops. `--seconds N` stops
 * after N seconds instead, even if no minute boundary was reached.
 *
 * DATABASE_URL selects PostgreSQL; unset (or empty), an in-memory PGlite database is used.
 * SPOOL_SCHEMA picks the schema (default "spool_examples").
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  consoleLogger,
  createWorker,
  cron,
  type CronItem,
  defineTask,
  parseCrontab,
} from "../mod.ts";

const { values } = parseArgs({ options: { seconds: { type: "string" } } });
const limitMs = values.seconds === undefined ? undefined : Number(values.seconds) * 1000;

const sayHello = defineTask({
  identifier: "say_hello_cron",
  payload: z.object({ message: z.string() }).passthrough(), // plus `_cron: { ts, backfilled }`
  run(payload) {
    console.log(`say_hello_cron: ${payload.message} (${JSON.stringify(payload._cron)})`);
    queueMicrotask(() => void worker.stop());
  },
});

const typed = cron.everyNMinutes(sayHello, 2)
  .fill("10m") // after downtime, add the runs missed in the last 10 minutes
  .jobKey("say_hello_dedupe")
  .jobKeyMode("preserve_run_at")
  .payload({ message: "Crontab" });

const crontab = `
# every minute, UTC
* * * * * say_hello_cron ?id=every_minute {message: "every minute"}
# 09:00 on weekdays, Paris time (UTC+1 in winter, UTC+2 in summer)
0 9 * * 1-5 say_hello_cron ?id=paris_morning&tz=Europe/Paris {message: "bonjour"}
`;

/** The next `count` minutes at which `item` fires, from now. */
function nextRuns(item: CronItem, count: number): string[] {
  const out: string[] = [];
  let ts = Math.ceil(Date.now() / 60_000) * 60_000;
  for (let i = 0; out.length < count && i < 366 * 24 * 60; i++, ts += 60_000) {
    if (item.schedule.matches(ts)) out.push(new Date(ts).toISOString().slice(0, 16) + "Z");
  }
  return out;
}
for (const item of [typed.toItem(), ...parseCrontab(crontab)]) {
  const zone = item.schedule.timezone ?? "UTC";
  console.log(`${item.identifier} (${item.schedule.expression}, ${zone}): ${nextRuns(item, 3)}`);
}

const worker = await createWorker({
  database: process.env.DATABASE_URL || undefined,
  schema: process.env.SPOOL_SCHEMA ?? "spool_examples",
  tasks: [sayHello],
  cron: [typed],
  crontab,
  logger: consoleLogger({ level: "warn" }),
});
await worker.utils.migrate();
const timer = limitMs === undefined ? undefined : setTimeout(() => void worker.stop(), limitMs);
console.log(
  limitMs === undefined
    ? "Worker running until the first cron job (next minute boundary)…"
    : `Worker running for ${values.seconds} s…`,
);
await worker.run();
clearTimeout(timer);
console.log("Worker stopped");
