/**
 * Fencing and lost locks, with a worker cut off from PostgreSQL through a
 * TCP proxy this test controls (only that worker's connections are cut; its
 * server connections are found by application_name and terminated too).
 *
 * 1. Cut off for longer than the stale threshold: the worker aborts its job
 *    (lock lost) before a second worker's sweep recovers it; the recorded
 *    start and end times show that no two runs of the job, or of its named
 *    queue, overlap, and the re-run is not charged an attempt.
 * 2. What a server crash does to an asynchronously committed lock: while the
 *    worker is cut off, its job row and queue are taken by someone else
 *    behind its back; after the reconnect the worker finds out and aborts it.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { recordingLogger, setupDb, type TestDb, waitFor } from "./fixtures/worker_helpers.ts";
import { proxiedUrl, startTcpProxy, type TcpProxy } from "./fixtures/tcp_proxy.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import { defineTask } from "../src/task/define_task.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";
import { JobAbortedError } from "../src/worker/job_abort.ts";
import { silentLogger } from "../src/logger.ts";
import type { RecoveryOptions } from "../src/recovery/options.ts";

let db: TestDb;
let proxy: TcpProxy;

interface Event {
  worker: string;
  jobId: string;
  event: "start" | "end";
  at: number;
  attempts: number;
  reason?: string;
}

test("fencing: setup", async () => {
  db = await setupDb("job_fence");
  const target = new URL(databaseUrl());
  proxy = await startTcpProxy({
    host: target.hostname || "127.0.0.1",
    port: Number(target.port || 5432),
  });
});

/** A task that runs until its signal is aborted, recording start and end. */
function recordingTask(worker: string, events: Event[], holdMs: number) {
  return defineTask({
    identifier: "fenced_job",
    payload: z.object({}),
    async run(_p, ctx) {
      const base = { worker, jobId: ctx.job.id, attempts: ctx.job.attempts };
      events.push({ ...base, event: "start", at: Date.now() });
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, holdMs);
          ctx.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(ctx.signal.reason);
          }, { once: true });
        });
      } finally {
        const reason = ctx.signal.reason instanceof JobAbortedError
          ? ctx.signal.reason.kind
          : undefined;
        events.push({ ...base, event: "end", at: Date.now(), reason });
      }
    },
  });
}

/** Cut the proxied worker off: close the proxy and terminate its own server connections. */
async function cutOff(app: string): Promise<void> {
  proxy.cut();
  await db.sql.unsafe(
    `select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1`,
    [app],
  );
}

test("a worker cut off for longer than the threshold aborts its job before another worker re-runs it", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const recovery: RecoveryOptions = {
    heartbeatInterval: 200,
    staleThreshold: 3000,
    sweepInterval: 300,
    recoveryDelay: 0,
  };
  const app = `spool_fence_${Math.random().toString(36).slice(2, 8)}`;
  const events: Event[] = [];
  const logger1 = recordingLogger();
  const w1 = await createWorker({
    driver: postgresJs(proxiedUrl(databaseUrl(), proxy.port, app), { max: 4 }),
    schema: db.schema,
    tasks: [recordingTask("w1", events, 120_000)],
    logger: logger1,
    noHandleSignals: true,
    pollInterval: 200,
    gracePeriod: 0,
    recovery,
  });
  const run1 = w1.run();
  const job1 = await db.addJob("fenced_job", {}, { queueName: "fence_q" });
  const job2 = await db.addJob("fenced_job", {}, { queueName: "fence_q" });
  await waitFor("w1 to start job 1", () => events.some((e) => e.worker === "w1"), 30_000);
  const w2 = await createWorker({
    driver: db.driver(4),
    schema: db.schema,
    tasks: [recordingTask("w2", events, 100)],
    logger: silentLogger,
    noHandleSignals: true,
    pollInterval: 200,
    recovery,
  });
  const run2 = w2.run();
  try {
    await cutOff(app);
    await waitFor("w2 to run both jobs", () => {
      const ends = events.filter((e) => e.worker === "w2" && e.event === "end");
      return ends.length >= 2;
    }, 60_000);
    const w1End = events.find((e) => e.worker === "w1" && e.event === "end");
    assert.ok(w1End, `w1 stopped its job: ${JSON.stringify(events)}`);
    assert.equal(w1End.jobId, job1);
    assert.equal(w1End.reason, "lockLost");
    const w2Runs = events.filter((e) => e.worker === "w2" && e.event === "start").map((
      start,
    ) => ({
      start,
      end: events.find((e) => e.worker === "w2" && e.event === "end" && e.jobId === start.jobId)!,
    })).sort((a, b) => a.start.at - b.start.at);
    assert.deepEqual(w2Runs.map((r) => r.start.jobId).sort(), [job1, job2].sort());
    for (const { start } of w2Runs) {
      assert.ok(
        w1End.at <= start.at,
        `w1 ended job 1 at ${w1End.at}, before w2 started job ${start.jobId} at ${start.at}`,
      );
    }
    assert.ok(w2Runs[0].end.at <= w2Runs[1].start.at, "one job of the named queue at a time");
    const rerun = w2Runs.find((r) => r.start.jobId === job1)!;
    assert.equal(rerun.start.attempts, 1, "the interrupted attempt was not charged");
    assert.ok(
      logger1.lines.some((l) =>
        l.level === "error" && /could not renew its heartbeat/.test(l.message)
      ),
      JSON.stringify(logger1.lines),
    );
    await waitFor("both jobs done", async () => (await db.jobs()).length === 0, 30_000);
  } finally {
    await proxy.restore();
    await w2.stop();
    await run2;
    await w1.stop();
    await run1;
  }
});

test("a lock lost behind the worker's back (as in a server crash) is detected after the reconnect", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const app = `spool_lost_${Math.random().toString(36).slice(2, 8)}`;
  const events: Event[] = [];
  const logger = recordingLogger();
  const w1 = await createWorker({
    driver: postgresJs(proxiedUrl(databaseUrl(), proxy.port, app), { max: 4 }),
    schema: db.schema,
    tasks: [recordingTask("w1", events, 120_000)],
    logger,
    noHandleSignals: true,
    pollInterval: 200,
    gracePeriod: 0,
    // A long threshold: the fence stays out of it; only the lock check can find the loss.
    recovery: { heartbeatInterval: 200, staleThreshold: 60_000, sweepInterval: 60_000 },
  });
  const run1 = w1.run();
  try {
    const id = await db.addJob("fenced_job", {}, { queueName: "lost_q" });
    await waitFor("w1 to start the job", () => events.length === 1, 30_000);
    await cutOff(app);
    // What a crash can do to an asynchronously committed lock: someone else holds the job now.
    await db.sql.unsafe(
      `update ${db.s}._private_jobs set locked_by = 'ghost_worker', locked_at = now() where id = $1`,
      [id],
    );
    await db.sql.unsafe(
      `update ${db.s}._private_job_queues set locked_by = 'ghost_worker', locked_at = now()
       where queue_name = 'lost_q'`,
    );
    await waitFor(
      "a failed heartbeat",
      () => logger.lines.some((l) => /Heartbeat of worker .* failed/.test(l.message)),
      30_000,
    );
    assert.equal(events.length, 1, "still running while cut off");
    await proxy.restore();
    await waitFor("w1 to abort the job", () => events.length === 2, 30_000);
    assert.equal(events[1].reason, "lockLost");
    assert.ok(
      logger.lines.some((l) =>
        l.level === "error" && /no longer holds 1 of its job/.test(l.message)
      ),
      JSON.stringify(logger.lines),
    );
    const [row] = await db.jobs();
    assert.equal(row.locked_by, "ghost_worker", "the other holder's lock is left alone");
    assert.equal(row.attempts, 1);
    assert.equal(row.last_error, null);
    await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  } finally {
    await proxy.restore();
    await w1.stop();
    await run1;
  }
});

test("fencing: teardown", async () => {
  await proxy.close();
  await db.close();
});
