/**
 * Child of `cancel_latency.ts`: a worker whose task marks itself started and
 * waits for its signal. Env: DATABASE_URL, BENCH_SCHEMA.
 */
import process from "node:process";
import { z } from "zod";
import { createWorker } from "../../src/worker/create_worker.ts";
import { defineTask } from "../../src/task/define_task.ts";
import { silentLogger } from "../../src/logger.ts";

const schema = process.env.BENCH_SCHEMA!;
const s = `"${schema.replaceAll('"', '""')}"`;
const task = defineTask({
  identifier: "bench_cancel",
  payload: z.object({}),
  async run(_payload, ctx) {
    await ctx.query(`insert into ${s}.bench_started values ($1)`, [ctx.job.id]);
    await new Promise((_resolve, reject) => {
      ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
    });
  },
});
const worker = await createWorker({
  database: process.env.DATABASE_URL,
  schema,
  tasks: [task],
  logger: silentLogger,
  pollInterval: 100,
});
await worker.run();
