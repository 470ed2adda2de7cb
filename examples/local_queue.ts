// deno-lint-ignore-file no-console
/**
 * The local queue: `deno run -A examples/local_queue.ts` (or `bun examples/local_queue.ts`).
 *
 * With `localQueue`, a worker locks a batch of jobs in one round trip and hands them to free
 * slots; after a fetch that found few jobs, a refetch delay pauses fetching (ended early by
 * enough new-job notifications). A small plugin prints the local-queue hooks as they fire
 * while a burst of twenty short jobs runs (all fetched before the first few finish), then
 * a trickle of three more: that fetch finds few jobs, so a refetch delay starts. Then the
 * example stops the worker.
 *
 * DATABASE_URL selects PostgreSQL; unset (or empty), an in-memory PGlite database is used.
 * SPOOL_SCHEMA picks the schema (default "spool_examples").
 */
import process from "node:process";
import { z } from "zod";
import { consoleLogger, createWorker, defineTask, type Plugin } from "../mod.ts";

const BURST = 20;
const TRICKLE = 3;
let done = 0;

const processItem = defineTask({
  identifier: "process_item",
  payload: z.object({ n: z.number() }),
  async run(payload, ctx) {
    await new Promise((r) => setTimeout(r, 10));
    console.log(`process_item ${payload.n}`);
    done++;
    // After the burst, a trickle: its fetch finds few jobs, so a refetch delay starts.
    if (done === BURST) {
      console.log(`-- burst done; adding ${TRICKLE} more jobs`);
      await ctx.addJobs(
        processItem,
        Array.from({ length: TRICKLE }, (_, i) => ({
          payload: { n: BURST + i },
        })),
      );
    }
    if (done === BURST + TRICKLE) setTimeout(() => void worker.stop(), 300);
  },
});

const localQueueLog: Plugin = {
  name: "local-queue-log",
  hooks: {
    "job:fetch": (c) => console.log(`[lq] fetched job ${c.job.id}`),
    "localQueue:refetchDelay:start": (c) => console.log(`[lq] refetch delay ${c.durationMs} ms`),
    "localQueue:refetchDelay:abort": (c) =>
      console.log(`[lq] delay ended early by ${c.notifications} notification(s)`),
    "localQueue:refetchDelay:expired": () => console.log("[lq] delay expired"),
    "localQueue:return": (c) => console.log(`[lq] returned ${c.jobs.length} job(s): ${c.reason}`),
  },
};

const worker = await createWorker({
  database: process.env.DATABASE_URL || undefined,
  schema: process.env.SPOOL_SCHEMA ?? "spool_examples",
  tasks: [processItem],
  concurrency: 4,
  localQueue: {
    size: 50, // jobs held at most
    ttl: 60_000, // held longer than this, they go back to the database (attempt not used)
    refetchDelay: { durationMs: 100, threshold: 5, maxAbortThreshold: 20 },
  },
  plugins: [localQueueLog],
  logger: consoleLogger({ level: "warn" }),
});

await worker.utils.migrate();
await worker.utils.addJobs(
  processItem,
  Array.from({ length: BURST }, (_, n) => ({ payload: { n } })),
);
await worker.run();
console.log(`${done} jobs ran`);
