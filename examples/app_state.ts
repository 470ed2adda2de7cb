// deno-lint-ignore-file no-console
/**
 * Application state shared with tasks: `deno run -A examples/app_state.ts`
 * (or `bun examples/app_state.ts`).
 *
 * An `AppState` (a run counter here; in a real app a mailer, an HTTP client, config) is
 * given to the worker with `extensions` and read in tasks with `ctx.ext(AppState)`; it is
 * never stored in job payloads. The same task also runs from a cron schedule (every
 * minute, backfilling up to an hour after downtime). The example adds three jobs, runs the
 * worker until the counter reaches three, then stops it.
 *
 * DATABASE_URL selects PostgreSQL; unset (or empty), an in-memory PGlite database is used.
 * SPOOL_SCHEMA picks the schema (default "spool_examples").
 */
import process from "node:process";
import { z } from "zod";
import { consoleLogger, createWorker, cron, defineTask, extension } from "../mod.ts";

/** Process-local state, shared by every job this worker runs. */
class RunCounter {
  #count = 0;
  increment(): number {
    return ++this.#count;
  }
}
const AppState = extension<RunCounter>("app_state");
const TARGET = 3;

const showRunCount = defineTask({
  identifier: "show_run_count",
  payload: z.object({}).passthrough(), // cron adds `_cron: { ts, backfilled }`
  run(_payload, ctx) {
    const count = ctx.ext(AppState).increment();
    console.log(`Run count: ${count}`);
    if (count === TARGET) queueMicrotask(() => void worker.stop());
  },
});

const worker = await createWorker({
  database: process.env.DATABASE_URL || undefined,
  schema: process.env.SPOOL_SCHEMA ?? "spool_examples",
  tasks: [showRunCount],
  extensions: [AppState.provide(new RunCounter())],
  cron: [cron.everyMinute(showRunCount).fill("1h")],
  logger: consoleLogger({ level: "warn" }),
});

await worker.utils.migrate();
for (let i = 0; i < TARGET; i++) await worker.utils.addJob(showRunCount, {});
await worker.run();
console.log(`Stopped after ${TARGET} runs`);
