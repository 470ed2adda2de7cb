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
import { detectRuntime } from "../src/runtime/detect.ts";
import process from "node:process";
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

test("a worker process cut off for longer than the threshold aborts its job before another worker re-runs it", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  await db.sql.unsafe(
    `create table if not exists ${db.s}.fixture_started (job_id text, at bigint)`,
  );
  const recovery: RecoveryOptions = {
    heartbeatInterval: 200,
    staleThreshold: 3000,
    sweepInterval: 300,
    recoveryDelay: 0,
  };
  const app = `spool_fence_${Math.random().toString(36).slice(2, 8)}`;
  const rt = detectRuntime();
  const fixture = new URL("./fixtures/worker_fenced.ts", import.meta.url).pathname;
  const args = rt.name === "deno" ? ["run", "-A", fixture] : [fixture];
  const killer = new AbortController();
  const hardTimeout = setTimeout(() => killer.abort(), 100_000);
  const child = rt.spawn(process.execPath, args, {
    cwd: new URL("..", import.meta.url).pathname,
    env: {
      DATABASE_URL: proxiedUrl(databaseUrl(), proxy.port, app),
      SPOOL_TEST_SCHEMA: db.schema,
      SPOOL_RECOVERY: JSON.stringify(recovery),
    },
    signal: killer.signal,
  });
  const events: Event[] = [];
  let w2: Awaited<ReturnType<typeof createWorker>> | undefined;
  let run2: Promise<void> | undefined;
  try {
    const job1 = await db.addJob("fenced_job", {}, { queueName: "fence_q" });
    const job2 = await db.addJob("fenced_job", {}, { queueName: "fence_q" });
    const [started] = await Promise.race([
      waitFor("the child to start job 1", async () => {
        const rows = await db.sql.unsafe(`select job_id, at from ${db.s}.fixture_started`);
        return rows.length > 0 ? rows : undefined;
      }, 60_000),
      child.status.then((s): never => {
        throw new Error(`child exited early (${s.code}): ${s.stdout}\n${s.stderr}`);
      }),
    ]);
    assert.equal(started.job_id, job1);
    w2 = await createWorker({
      driver: db.driver(4),
      schema: db.schema,
      tasks: [recordingTask("w2", events, 100)],
      logger: silentLogger,
      noHandleSignals: true,
      pollInterval: 200,
      recovery,
    });
    run2 = w2.run();
    await cutOff(app);
    await waitFor("w2 to run both jobs", () => {
      return events.filter((e) => e.event === "end").length >= 2;
    }, 60_000);
    await proxy.restore();
    child.kill("SIGTERM");
    const status = await child.status;
    const output = `${status.stdout}\n${status.stderr}`;
    const end = /fixture: end (\d+) (\d+) (\w+)/.exec(status.stdout);
    assert.ok(end, `the child reported the end of its job:\n${output}`);
    assert.equal(end[1], job1);
    assert.equal(end[3], "lockLost", output);
    assert.match(output, /could not renew its heartbeat/);
    const childEnd = Number(end[2]);
    const w2Runs = events.filter((e) => e.event === "start").map((start) => ({
      start,
      end: events.find((e) => e.event === "end" && e.jobId === start.jobId)!,
    })).sort((a, b) => a.start.at - b.start.at);
    assert.deepEqual(w2Runs.map((r) => r.start.jobId).sort(), [job1, job2].sort());
    for (const { start } of w2Runs) {
      assert.ok(
        childEnd <= start.at,
        `the child ended job 1 at ${childEnd}, before w2 started job ${start.jobId} at ${start.at}`,
      );
    }
    assert.ok(w2Runs[0].end.at <= w2Runs[1].start.at, "one job of the named queue at a time");
    const rerun = w2Runs.find((r) => r.start.jobId === job1)!;
    assert.equal(rerun.start.attempts, 1, "the interrupted attempt was not charged");
    await waitFor("both jobs done", async () => (await db.jobs()).length === 0, 30_000);
  } finally {
    clearTimeout(hardTimeout);
    await proxy.restore();
    child.kill("SIGKILL");
    await w2?.stop();
    await run2;
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
