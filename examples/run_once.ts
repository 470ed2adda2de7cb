// deno-lint-ignore-file no-console
/**
 * One bounded pass instead of a long-running worker: `deno run -A examples/run_once.ts`
 * (or `bun examples/run_once.ts`).
 *
 * Adds ten jobs, then `runOnce()` runs every job that is runnable now and resolves. The
 * worker is declared with `await using`, so it is stopped (and its pool closed) when the
 * block ends; without it, a worker that opened its own PostgreSQL pool from `database` still
 * lets the process end once `runOnce()` resolves.
 *
 * DATABASE_URL selects PostgreSQL; unset (or empty), an in-memory PGlite database is used.
 * SPOOL_SCHEMA picks the schema (default "spool_examples").
 */
import process from "node:process";
import { z } from "zod";
import { consoleLogger, createWorker, defineTask } from "../mod.ts";

const sayHello = defineTask({
  identifier: "say_hello_once",
  payload: z.object({ message: z.string() }),
  run: (payload) => console.log(`Hello ${payload.message}!`),
});

{
  await using worker = await createWorker({
    database: process.env.DATABASE_URL || undefined,
    schema: process.env.SPOOL_SCHEMA ?? "spool_examples",
    tasks: [sayHello],
    concurrency: 4,
    logger: consoleLogger({ level: "warn" }),
  });
  await worker.utils.migrate();
  await worker.utils.addJobs(
    sayHello,
    Array.from({ length: 10 }, (_, i) => ({ payload: { message: `job ${i + 1}` } })),
  );
  await worker.runOnce();
  console.log("runOnce() resolved: every runnable job has run");
}
console.log("The worker was disposed at the end of its block");
