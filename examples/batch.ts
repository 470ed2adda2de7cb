// deno-lint-ignore-file no-console
/**
 * Batch jobs: `deno run -A examples/batch.ts` (or `bun examples/batch.ts`).
 *
 * Uses DATABASE_URL when set, otherwise an in-memory PGlite database. A burst
 * of `addBatchJob` calls with one `jobKey` becomes one job; the task reports a
 * result per item, so only the item that failed is kept for the retry.
 */
import process from "node:process";
import { z } from "zod";
import { consoleLogger, createWorker } from "../mod.ts";
import { defineBatchTask } from "../src/task/define_batch_task.ts";
import { BatchResult } from "../src/task/batch_result.ts";

const sendNotifications = defineBatchTask({
  identifier: "send_notifications",
  item: z.object({ userId: z.string(), text: z.string() }),
  run(items, ctx) {
    console.log(`run #${ctx.job.attempts}: ${items.length} notification(s) in one job`);
    return items.map((item) =>
      item.userId === "bob"
        ? BatchResult.fail(new Error(`no device registered for ${item.userId}`))
        : BatchResult.ok()
    );
  },
});

const database = process.env.DATABASE_URL || undefined;
console.log(database ? "Using DATABASE_URL" : "No DATABASE_URL: using in-memory PGlite");

const worker = await createWorker({
  database, // undefined → embedded PGlite
  schema: process.env.SPOOL_SCHEMA ?? "spool_batch_example",
  tasks: [sendNotifications],
  logger: consoleLogger({ level: "warn", scope: "batch" }),
  noHandleSignals: true,
});

try {
  await worker.utils.migrate();
  // Three adds within the debounce window: one job, items appended in order,
  // run 300 ms after the last add.
  for (const userId of ["ada", "bob", "cy"]) {
    const job = await worker.utils.addBatchJob(
      sendNotifications,
      [{ userId, text: "You have mail" }],
      { jobKey: "notify:inbox", runAt: new Date(Date.now() + 300) },
    );
    const held = Array.isArray(job.payload) ? job.payload.length : 0;
    console.log(`added for ${userId}: job ${job.id} now holds ${held} item(s)`);
  }
  await new Promise((r) => setTimeout(r, 400));
  await worker.runOnce();

  const left = await worker.utils.getJobByKey("notify:inbox");
  if (left) {
    console.log(`retry payload: ${JSON.stringify(left.payload)}`);
    console.log(`last error: ${left.lastError}`);
    console.log(`next attempt at ${left.runAt.toISOString()}`);
  } else {
    console.log("every notification was sent");
  }
} finally {
  await worker.stop();
}
