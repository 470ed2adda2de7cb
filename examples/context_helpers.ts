// deno-lint-ignore-file no-console
/**
 * Scheduling the next step from inside a task: `deno run -A examples/context_helpers.ts`
 * (or `bun examples/context_helpers.ts`).
 *
 * `send_ws` stands for an operation whose result is checked later: when it succeeds it adds
 * a `check_ws` job with `ctx.addJob`, to run one second later (a real app would wait
 * longer). `check_ws` uses `ctx.query` on the worker's pool and `ctx.logger`; when it has
 * run, the example stops the worker.
 *
 * DATABASE_URL selects PostgreSQL; unset (or empty), an in-memory PGlite database is used.
 * SPOOL_SCHEMA picks the schema (default "spool_examples").
 */
import process from "node:process";
import { z } from "zod";
import { consoleLogger, createWorker, defineTask } from "../mod.ts";

const checkWs = defineTask({
  identifier: "check_ws",
  payload: z.object({ requestId: z.string() }),
  async run(payload, ctx) {
    const { rows } = await ctx.query<{ now: Date }>("select now() as now");
    console.log(`check_ws: request ${payload.requestId} checked at ${rows[0].now.toISOString()}`);
    ctx.logger.info("follow-up done");
    queueMicrotask(() => void worker.stop());
  },
});

const sendWs = defineTask({
  identifier: "send_ws",
  payload: z.object({ requestId: z.string() }),
  async run(payload, ctx) {
    console.log(`send_ws: sent request ${payload.requestId}`);
    const next = await ctx.addJob(checkWs, { requestId: payload.requestId }, {
      runAt: new Date(Date.now() + 1_000),
    });
    console.log(`send_ws: scheduled check_ws as job ${next.id} for ${next.runAt.toISOString()}`);
  },
});

const worker = await createWorker({
  database: process.env.DATABASE_URL || undefined,
  schema: process.env.SPOOL_SCHEMA ?? "spool_examples",
  tasks: [sendWs, checkWs],
  pollInterval: 500, // a job added for later is found by polling
  logger: consoleLogger({ level: "warn" }),
});

await worker.utils.migrate();
await worker.utils.addJob(sendWs, { requestId: "req-42" });
await worker.run();
console.log("Both steps ran; worker stopped");
