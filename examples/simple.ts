// deno-lint-ignore-file no-console
/**
 * The smallest complete worker: `deno run -A examples/simple.ts` (or `bun examples/simple.ts`).
 *
 * A typed task, a worker, one job scheduled two seconds ahead, and `worker.run()` processing
 * jobs continuously. The task fails its first two attempts so you can watch retries (a
 * one-second `backoff` keeps the wait short); once it succeeds the example stops the worker,
 * `run()` resolves, and the process ends.
 *
 * DATABASE_URL selects PostgreSQL; unset (or empty), an in-memory PGlite database is used.
 * SPOOL_SCHEMA picks the schema (default "spool_examples").
 */
import process from "node:process";
import { z } from "zod";
import { consoleLogger, createWorker, defineTask } from "../mod.ts";

const sayHello = defineTask({
  identifier: "say_hello",
  payload: z.object({ message: z.string() }),
  run(payload, ctx) {
    console.log(`Hello ${payload.message}! (attempt ${ctx.job.attempts})`);
    if (ctx.job.attempts < 3) throw new Error("Failed");
    queueMicrotask(() => void worker.stop()); // done: end the example
  },
});

const worker = await createWorker({
  database: process.env.DATABASE_URL || undefined, // unset → embedded PGlite
  schema: process.env.SPOOL_SCHEMA ?? "spool_examples",
  tasks: [sayHello],
  backoff: () => 1, // seconds before a retry (the default grows exponentially)
  logger: consoleLogger({ level: "warn" }),
});

await worker.utils.migrate();
const job = await worker.utils.addJob(
  sayHello,
  { message: "world" },
  { runAt: new Date(Date.now() + 2_000), maxAttempts: 5 },
);
console.log(`Added job ${job.id}, to run at ${job.runAt.toISOString()}`);
await worker.run(); // until worker.stop() (or Ctrl+C)
console.log("Worker stopped");
