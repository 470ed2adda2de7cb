/**
 * Dead-worker recovery with real processes: a worker process is killed with
 * SIGKILL in the middle of a job. With recovery on, another worker's sweeper
 * notices the stale heartbeat and the job runs again, its attempt given
 * back. With recovery off, the job stays locked until the 4-hour stale-lock
 * reset (simulated by ageing locked_at).
 */
import assert from "node:assert/strict";
import process from "node:process";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import {
  deferred,
  recordingLogger,
  setupDb,
  type TestDb,
  waitFor,
  withDeadline,
} from "./fixtures/worker_helpers.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import { defineTask } from "../src/task/define_task.ts";
import { silentLogger } from "../src/logger.ts";
import type { JobInfo } from "../src/task/types.ts";

const FAST = { heartbeatInterval: 200, staleThreshold: 1000, sweepInterval: 300, recoveryDelay: 0 };

let db: TestDb;

test("recovery kill -9: setup", async () => {
  db = await setupDb("recovery_kill");
});

/** Start the fixture worker, wait until it holds the job, then SIGKILL it. Returns its id. */
async function killMidJob(recovery: "on" | "off"): Promise<string> {
  const rt = detectRuntime();
  const fixture = new URL("./fixtures/worker_recovery.ts", import.meta.url).pathname;
  const repoRoot = new URL("..", import.meta.url).pathname;
  const args = rt.name === "deno" ? ["run", "-A", fixture] : [fixture];
  await db.sql.unsafe(`create table if not exists ${db.s}.fixture_started (job_id text)`);
  await db.sql.unsafe(`delete from ${db.s}.fixture_started`);
  const killer = new AbortController();
  const hardTimeout = setTimeout(() => killer.abort(), 40_000);
  const child = rt.spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { DATABASE_URL: databaseUrl(), SPOOL_TEST_SCHEMA: db.schema, SPOOL_RECOVERY: recovery },
    signal: killer.signal,
  });
  try {
    const lockedBy = await Promise.race([
      waitFor("the child to lock the job", async () => {
        const [row] = await db.jobs();
        if (!row?.locked_by) return undefined;
        if (recovery === "off") return row.locked_by;
        const [reg] = await db.sql.unsafe(
          `select id from ${db.s}._private_workers where id = $1`,
          [row.locked_by],
        );
        return reg ? row.locked_by : undefined;
      }, 30_000),
      child.status.then((s): string => {
        throw new Error(`child exited early (${s.code}): ${s.stdout}\n${s.stderr}`);
      }),
    ]);
    // Locked is not yet started: wait for the task's own marker row before killing.
    await waitFor("the child's task to start", async () => {
      const [row] = await db.sql.unsafe(`select count(*)::int as n from ${db.s}.fixture_started`);
      return row.n > 0;
    }, 30_000);
    child.kill("SIGKILL");
    const status = await child.status;
    assert.notEqual(status.code, 0, "the child was killed");
    assert.match(status.stdout + status.stderr, /fixture: job started/);
    return lockedBy;
  } finally {
    clearTimeout(hardTimeout);
    child.kill("SIGKILL");
  }
}

function recorderTask(onRun: (job: JobInfo, lastError: string | null) => void) {
  return defineTask({
    identifier: "rec_job",
    payload: z.object({}),
    async run(_payload, ctx) {
      const [row] = await db.sql.unsafe(
        `select last_error from ${db.s}._private_jobs where id = $1`,
        [ctx.job.id],
      );
      onRun(ctx.job, row?.last_error ?? null);
    },
  });
}

test("kill -9 with recovery on: another worker runs the job within threshold + sweep interval, attempt not used up", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const jobId = await db.addJob("rec_job", {}, { queueName: "rec_q" });
  const deadId = await killMidJob("on");
  const killedAt = Date.now();

  const ran = deferred<{ job: JobInfo; lastError: string | null; at: number }>();
  const driver = db.driver(4);
  const logger = recordingLogger();
  const worker = await createWorker({
    driver,
    schema: db.schema,
    tasks: [recorderTask((job, lastError) => ran.resolve({ job, lastError, at: Date.now() }))],
    logger,
    noHandleSignals: true,
    pollInterval: 200,
    recovery: FAST,
  });
  const running = worker.run();
  try {
    const result = await withDeadline(ran.promise, 15_000, async () => {
      const state = JSON.stringify({
        jobs: await db.jobs(),
        workers: await db.sql.unsafe(`select * from ${db.s}._private_workers`),
        log: logger.lines,
      });
      return new Error(`the job was not recovered within 15 s: ${state}`);
    });
    const elapsed = result.at - killedAt;
    // Stale after 1 s without a heartbeat, then at most one sweep interval (±10 %), plus the
    // child's last heartbeat age, fetch and scheduling slack.
    assert.ok(elapsed < FAST.staleThreshold + FAST.sweepInterval + 3_000, `took ${elapsed} ms`);
    assert.equal(result.job.id, jobId);
    assert.equal(result.job.attempts, 1, "the killed attempt was given back");
    assert.match(result.lastError ?? "", /recovered after worker interruption/);
    assert.ok((result.lastError ?? "").includes(deadId), result.lastError ?? "");
    await waitFor("the job to be completed", async () => (await db.jobs()).length === 0, 10_000);
    const rows = await db.sql.unsafe(
      `select id from ${db.s}._private_workers where id = $1`,
      [deadId],
    );
    assert.equal(rows.length, 0, "the dead worker's row was removed");
    const [queue] = await db.sql.unsafe(
      `select locked_by from ${db.s}._private_job_queues where queue_name = 'rec_q'`,
    );
    assert.equal(queue.locked_by, null);
  } finally {
    await worker.stop();
    await running;
    await driver.close();
  }
});

test("kill -9 with recovery off: the job stays locked until the stale-lock reset", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const jobId = await db.addJob("rec_job", {});
  const deadId = await killMidJob("off");

  const runs: JobInfo[] = [];
  const driver = db.driver(4);
  // A live worker with recovery on (sweepUnregistered off) must leave the unregistered lock alone.
  const worker = await createWorker({
    driver,
    schema: db.schema,
    tasks: [recorderTask((job) => void runs.push(job))],
    logger: silentLogger,
    noHandleSignals: true,
    pollInterval: 100,
    recovery: FAST,
  });
  const running = worker.run();
  try {
    await new Promise((r) => setTimeout(r, 3 * (FAST.staleThreshold + FAST.sweepInterval)));
  } finally {
    await worker.stop();
    await running;
  }
  assert.equal(runs.length, 0, "nobody ran the job");
  const [locked] = await db.jobs();
  assert.equal(locked.locked_by, deadId, "still locked by the dead worker");
  assert.equal(locked.attempts, 1);

  // Age the lock past 4 hours; runOnce resets stale locks first, then runs the job.
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set locked_at = now() - interval '4 hours 1 minute'`,
  );
  const once = await createWorker({
    driver,
    schema: db.schema,
    tasks: [recorderTask((job) => void runs.push(job))],
    logger: silentLogger,
    noHandleSignals: true,
    recovery: { enabled: false },
  });
  try {
    await once.runOnce();
  } finally {
    await once.stop();
    await driver.close();
  }
  assert.equal(runs.length, 1);
  assert.equal(runs[0].id, jobId);
  assert.equal(runs[0].attempts, 2, "the 4-hour reset keeps the used attempt");
  assert.equal((await db.jobs()).length, 0);
});

test("recovery kill -9: teardown", async () => {
  await db.close();
});
