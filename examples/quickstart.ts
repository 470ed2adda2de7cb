// deno-lint-ignore-file no-console
/**
 * Quickstart: `deno task demo` (or `bun examples/quickstart.ts`).
 *
 * Uses DATABASE_URL when set, otherwise an in-memory PGlite database, so it
 * needs no server. Migrates, adds a few jobs, runs a worker until they are
 * done, prints what happened, and exits.
 */
import process from "node:process";
import { z } from "zod";
import { consoleLogger, createWorker, defineTask } from "../mod.ts";

const sendEmail = defineTask({
  identifier: "send_email",
  payload: z.object({ to: z.string().email(), subject: z.string() }),
  async run(payload, ctx) {
    ctx.logger.info(`sending "${payload.subject}" to ${payload.to} (attempt ${ctx.job.attempts})`);
    await new Promise((r) => setTimeout(r, 20));
  },
});

const flaky = defineTask({
  identifier: "flaky",
  payload: z.object({ n: z.number() }),
  run(payload) {
    throw new Error(`flaky job ${payload.n} failed; it will be retried with backoff`);
  },
});

const database = process.env.DATABASE_URL || undefined;
console.log(
  database ? "Using DATABASE_URL" : "No DATABASE_URL: using an in-memory PGlite database",
);

const worker = await createWorker({
  database, // undefined → embedded PGlite
  schema: process.env.SPOOL_SCHEMA ?? "spool_quickstart",
  tasks: [sendEmail, flaky],
  concurrency: 4,
  logger: consoleLogger({ level: "info", scope: "demo" }),
  noHandleSignals: true,
});

try {
  await worker.utils.migrate();
  const jobs = await worker.utils.addJobs(sendEmail, [
    { payload: { to: "ada@example.com", subject: "Welcome" } },
    { payload: { to: "grace@example.com", subject: "Welcome" }, options: { priority: -1 } },
    { payload: { to: "alan@example.com", subject: "Digest" }, options: { queueName: "digests" } },
  ]);
  await worker.utils.addJob(flaky, { n: 1 }, { maxAttempts: 2, jobKey: "flaky-1" });
  console.log(`Added ${jobs.length + 1} jobs: ${jobs.map((j) => j.id).join(", ")}, …`);

  await worker.runOnce(); // run everything runnable now

  const left = await worker.utils.getJobByKey("flaky-1");
  console.log(
    left
      ? `The flaky job is waiting to retry: attempts ${left.attempts}/${left.maxAttempts}, ` +
        `next run ${left.runAt.toISOString()}, last error "${left.lastError}"`
      : "The flaky job is gone",
  );
  for (const job of jobs) {
    console.log(
      `job ${job.id} (${job.taskIdentifier}): ${
        await worker.utils.getJob(job.id) ? "still queued" : "done"
      }`,
    );
  }
} finally {
  await worker.stop();
}
