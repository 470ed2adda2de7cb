/**
 * Heartbeats and the stale-worker sweep against a real database: registry
 * rows, dry runs, what a sweep does to jobs and queues, the resilient-flag
 * threshold, locks of unregistered holders (graphile-worker), the sweep's
 * advisory lock, reclaiming lost fetches, and option checks.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { createWorkerUtils, type WorkerUtils } from "../src/utils/worker_utils.ts";
import { HeartbeatService } from "../src/recovery/heartbeat.ts";
import { SweeperService } from "../src/recovery/sweeper.ts";
import { resolveRecoveryOptions } from "../src/recovery/options.ts";
import { RECOVERY_DEFAULTS } from "../src/utils/workers_admin.ts";
import { SWEEP_LOCK_CLASS } from "../src/sql/workers_sweep.ts";
import { GuardedFetcher, HeldJobs } from "../src/worker/held_jobs.ts";
import { jobsReclaim } from "../src/sql/jobs_reclaim.ts";
import { buildTaskRegistry } from "../src/worker/registry.ts";
import { defineTask } from "../src/task/define_task.ts";
import { ValidationError } from "../src/errors.ts";
import { silentLogger } from "../src/logger.ts";
import { systemClock } from "../src/runtime/clock.ts";
import type { Driver } from "../src/driver/types.ts";
import { z } from "zod";

let db: TestDb;
let driver: Driver;
let utils: WorkerUtils;

test("recovery sweep: setup", async () => {
  db = await setupDb("recovery_sweep");
  driver = db.driver(4);
  utils = createWorkerUtils({ driver, schema: db.schema });
});

async function reset(): Promise<void> {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  await db.sql.unsafe(`delete from ${db.s}._private_job_queues`);
  await db.sql.unsafe(`delete from ${db.s}._private_workers`);
}

/** Register `id` with a heartbeat `ageMs` old. */
async function registerAged(id: string, ageMs: number): Promise<void> {
  await db.sql.unsafe(
    `insert into ${db.s}._private_workers (id, last_heartbeat_at, started_at, metadata)
     values ($1, now() - $2::float8 * interval '1 ms', now() - interval '1 day', '{"t":1}')`,
    [id, ageMs],
  );
}

/** Lock job `jobId` (and its queue) as `workerId`, `ageMs` ago, counting the attempt. */
async function lockAs(jobId: string, workerId: string, ageMs = 0): Promise<void> {
  await db.sql.unsafe(
    `with j as (
       update ${db.s}._private_jobs set locked_by = $2, attempts = attempts + 1,
         locked_at = now() - $3::float8 * interval '1 ms'
       where id = $1::bigint returning job_queue_id)
     update ${db.s}._private_job_queues q set locked_by = $2,
       locked_at = now() - $3::float8 * interval '1 ms'
     from j where q.id = j.job_queue_id`,
    [jobId, workerId, ageMs],
  );
}

async function job(id: string) {
  return (await db.jobs()).find((j) => j.id === id);
}

test("heartbeat: registers with metadata, renews, lists, and a clean deregister removes the row", async () => {
  await reset();
  const hb = new HeartbeatService({
    db: driver,
    schema: db.schema,
    workerId: "spool_worker_hb",
    logger: silentLogger,
    clock: systemClock,
    interval: 50,
    metadata: { runtime: "deno", pid: 42, tasks: ["a"] },
  });
  await hb.register();
  const [first] = await utils.listActiveWorkers();
  assert.equal(first.id, "spool_worker_hb");
  assert.deepEqual(first.metadata, { runtime: "deno", pid: 42, tasks: ["a"] });
  assert.equal(first.isStale, false);
  hb.start();
  await new Promise((r) => setTimeout(r, 200));
  await hb.stop();
  const [second] = await utils.listActiveWorkers();
  assert.ok(second.lastHeartbeatAt > first.lastHeartbeatAt, "the heartbeat was renewed");
  assert.equal((await utils.listActiveWorkers({ threshold: 1 }))[0]?.isStale, true);
  await hb.deregister();
  assert.deepEqual(await utils.listActiveWorkers(), []);
});

test("deregister keeps the row while the worker still holds a lock", async () => {
  await reset();
  const id = await db.addJob("t", {});
  const hb = new HeartbeatService({
    db: driver,
    schema: db.schema,
    workerId: "spool_worker_holder",
    logger: silentLogger,
    clock: systemClock,
    interval: 1000,
    metadata: null,
  });
  await hb.register();
  await lockAs(id, "spool_worker_holder");
  await hb.deregister();
  assert.equal((await utils.listActiveWorkers()).length, 1, "kept for a sweeper");
  assert.equal((await utils.listActiveWorkers())[0].lockedJobs, 1);
});

test("sweepStaleWorkers: dry run reports, a real sweep recovers jobs and queues and removes the rows", async () => {
  await reset();
  const a = await db.addJob("t", {}, { queueName: "q1" });
  const b = await db.addJob("t", {});
  const fresh = await db.addJob("t", {});
  const free = await db.addJob("t", {});
  await registerAged("dead_1", 10 * 60_000);
  await registerAged("alive_1", 1_000);
  await lockAs(a, "dead_1", 60_000);
  await lockAs(b, "dead_1", 60_000);
  await lockAs(fresh, "alive_1", 60_000);

  const preview = await utils.sweepStaleWorkers({ dryRun: true });
  assert.deepEqual(preview, {
    swept: true,
    dryRun: true,
    workerIds: ["dead_1"],
    unregisteredIds: [],
    jobIds: [a, b].sort(),
    unlockedQueues: 1,
  });
  assert.equal((await job(a))?.locked_by, "dead_1", "a dry run changes nothing");
  assert.equal((await utils.listActiveWorkers()).length, 2);

  const [{ now }] = await db.sql`select now() as now`;
  const result = await utils.sweepStaleWorkers({ recoveryDelay: 60_000 });
  assert.equal(result.swept, true);
  assert.deepEqual(result.workerIds, ["dead_1"]);
  assert.deepEqual(result.jobIds, [a, b].sort());
  assert.equal(result.unlockedQueues, 1);
  for (const id of [a, b]) {
    const row = (await job(id))!;
    assert.equal(row.locked_by, null);
    assert.equal(row.locked_at, null);
    assert.equal(row.attempts, 0, "the interrupted attempt is not counted");
    assert.match(row.last_error ?? "", /^Job recovered after worker interruption \(worker dead_1/);
    const delay = row.run_at.getTime() - (now as Date).getTime();
    assert.ok(delay >= 59_000 && delay < 70_000, `run_at pushed by ~60 s (got ${delay})`);
  }
  assert.equal((await job(fresh))?.locked_by, "alive_1", "a live worker is left alone");
  assert.equal((await job(free))?.attempts, 0);
  const [queue] = await db.sql.unsafe(
    `select locked_by from ${db.s}._private_job_queues where queue_name = 'q1'`,
  );
  assert.equal(queue.locked_by, null);
  assert.deepEqual((await utils.listActiveWorkers()).map((w) => w.id), ["alive_1"]);

  // A custom threshold: alive_1 (1 s old heartbeat) is stale for a 500 ms threshold.
  const strict = await utils.sweepStaleWorkers({ threshold: 500, dryRun: true });
  assert.deepEqual(strict.workerIds, ["alive_1"]);
  assert.deepEqual(strict.jobIds, [fresh]);
});

test("attempts never go below 0 and run_at is never moved earlier", async () => {
  await reset();
  const later = new Date(Date.now() + 3_600_000);
  const id = await db.addJob("t", {}, { runAt: later });
  await registerAged("dead_2", 10 * 60_000);
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set locked_by = 'dead_2', locked_at = now(), attempts = 0`,
  );
  await utils.sweepStaleWorkers({ recoveryDelay: 0 });
  const row = (await job(id))!;
  assert.equal(row.attempts, 0);
  assert.equal(row.run_at.getTime(), later.getTime());
});

test("a worker holding an infrastructure_resilient job gets threshold × multiplier", async () => {
  await reset();
  const long = await db.addJob("t", {}, { flags: ["infrastructure_resilient"] });
  const plain = await db.addJob("t", {});
  await registerAged("resilient_holder", 10 * 60_000); // 2× the default 5 min threshold
  await registerAged("plain_holder", 10 * 60_000);
  await lockAs(long, "resilient_holder", 10 * 60_000);
  await lockAs(plain, "plain_holder", 10 * 60_000);
  let result = await utils.sweepStaleWorkers({ dryRun: true });
  assert.deepEqual(result.workerIds, ["plain_holder"]);
  result = await utils.sweepStaleWorkers({ dryRun: true, resilientMultiplier: 2 });
  assert.deepEqual(result.workerIds.sort(), ["plain_holder", "resilient_holder"]);
  // A falsy flag value does not count.
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set flags = '{"infrastructure_resilient": false}' where id = $1`,
    [long],
  );
  result = await utils.sweepStaleWorkers({ dryRun: true });
  assert.deepEqual(result.workerIds.sort(), ["plain_holder", "resilient_holder"]);
  result = await utils.sweepStaleWorkers({});
  assert.deepEqual(result.jobIds, [long, plain].sort());
});

test("a graphile-worker lock (never registered) is not swept unless sweepUnregistered is set", async () => {
  await reset();
  const gw = await db.addJob("t", {}, { queueName: "gw_q" });
  const pool = "pool-0123456789abcdef01";
  await lockAs(gw, pool, 60 * 60_000); // an hour old: well within graphile-worker's 4 hours
  const sweeper = (sweepUnregistered: boolean) =>
    new SweeperService({
      db: driver,
      schema: db.schema,
      workerId: "spool_worker_sweeper",
      logger: silentLogger,
      clock: systemClock,
      interval: 60_000,
      settings: {
        thresholdMs: 1_000,
        recoveryDelayMs: 0,
        sweepUnregistered,
        resilientFlags: RECOVERY_DEFAULTS.resilientFlags,
        resilientMultiplier: 3,
      },
    });
  const first = await sweeper(false).runOnce();
  assert.equal(first?.swept, true);
  assert.deepEqual(first?.jobIds, []);
  assert.equal((await job(gw))?.locked_by, pool, "left to the 4-hour rule");

  const preview = await utils.sweepStaleWorkers({ sweepUnregistered: true, dryRun: true });
  assert.deepEqual(preview.unregisteredIds, [pool]);
  assert.equal((await job(gw))?.locked_by, pool);

  const second = await sweeper(true).runOnce();
  assert.deepEqual(second?.unregisteredIds, [pool]);
  assert.deepEqual(second?.jobIds, [gw]);
  const row = (await job(gw))!;
  assert.equal(row.locked_by, null);
  assert.equal(row.attempts, 0);
  assert.match(row.last_error ?? "", /never registered/);
  const [queue] = await db.sql.unsafe(
    `select locked_by from ${db.s}._private_job_queues where queue_name = 'gw_q'`,
  );
  assert.equal(queue.locked_by, null);
});

test("an unregistered holder with a recent lock is not swept even with sweepUnregistered", async () => {
  await reset();
  const old = await db.addJob("t", {});
  const recent = await db.addJob("t", {});
  await lockAs(old, "pool-busy", 10 * 60_000);
  await lockAs(recent, "pool-busy", 1_000); // it is still taking jobs: alive
  const result = await utils.sweepStaleWorkers({ sweepUnregistered: true });
  assert.deepEqual(result.unregisteredIds, []);
  assert.equal((await job(old))?.locked_by, "pool-busy");
});

test("one sweep at a time: a sweep that finds the advisory lock taken does nothing", async () => {
  await reset();
  const id = await db.addJob("t", {});
  await registerAged("dead_3", 10 * 60_000);
  await lockAs(id, "dead_3");
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holder = db.sql.begin(async (tx) => {
    await tx.unsafe(`select pg_advisory_xact_lock($1::int, hashtext('spool:sweep:' || $2::text))`, [
      SWEEP_LOCK_CLASS,
      db.schema,
    ]);
    locked();
    await held;
  });
  await isLocked;
  try {
    const blocked = await utils.sweepStaleWorkers({});
    assert.deepEqual(blocked, {
      swept: false,
      dryRun: false,
      workerIds: [],
      unregisteredIds: [],
      jobIds: [],
      unlockedQueues: 0,
    });
    assert.equal((await job(id))?.locked_by, "dead_3");
  } finally {
    release();
    await holder;
  }
  const after = await utils.sweepStaleWorkers({});
  assert.deepEqual(after.jobIds, [id]);
});

test("a worker's sweeper never sweeps itself", async () => {
  await reset();
  const id = await db.addJob("t", {});
  await registerAged("me", 10 * 60_000);
  await lockAs(id, "me");
  const sweeper = new SweeperService({
    db: driver,
    schema: db.schema,
    workerId: "me",
    logger: silentLogger,
    clock: systemClock,
    interval: 60_000,
    settings: {
      thresholdMs: 1_000,
      recoveryDelayMs: 0,
      sweepUnregistered: true,
      resilientFlags: [],
      resilientMultiplier: 1,
    },
  });
  const result = await sweeper.runOnce();
  assert.deepEqual(result?.jobIds, []);
  assert.equal((await job(id))?.locked_by, "me");
});

test("lost fetch: jobs locked by this worker but unknown to it are handed back before the next fetch", async () => {
  await reset();
  const known = await db.addJob("t", {});
  const lost = await db.addJob("t", {}, { queueName: "lost_q" });
  await lockAs(known, "w_self");
  await lockAs(lost, "w_self");
  const held = new HeldJobs();
  held.add([known]);
  let fail = true;
  const task = defineTask({ identifier: "t", payload: z.object({}), run: () => {} });
  const fetcher = new GuardedFetcher({
    db: {
      query: (text, params) => {
        if (fail && /for update/i.test(text)) {
          fail = false;
          return Promise.reject(Object.assign(new Error("gone"), { code: "CONNECTION_CLOSED" }));
        }
        return driver.query(text, params);
      },
    },
    schema: db.schema,
    workerId: "w_self",
    registry: buildTaskRegistry([task]),
    forbiddenFlags: undefined,
    localClock: undefined,
    held,
    reclaim: (knownIds) => jobsReclaim(driver, { schema: db.schema, workerId: "w_self", knownIds }),
    logger: silentLogger,
  });
  await assert.rejects(() => fetcher.fetch(1), /gone/);
  assert.equal(fetcher.suspect, true);
  const jobs = await fetcher.fetch(5); // reclaims first, then fetches
  assert.equal(fetcher.suspect, false);
  const byId = new Map((await db.jobs()).map((j) => [j.id, j]));
  assert.equal(byId.get(known)?.locked_by, "w_self", "a known job is kept");
  // The lost job was handed back (attempt returned) and then fetched again normally.
  assert.deepEqual(jobs.map((j) => j.id), [lost]);
  assert.equal(byId.get(lost)?.attempts, 1);
  assert.deepEqual(held.ids().sort(), [known, lost].sort());
});

test("recovery options: defaults, and bad values name the field", () => {
  const d = resolveRecoveryOptions(undefined);
  assert.equal(d.enabled, true);
  assert.equal(d.heartbeatInterval, 30_000);
  assert.equal(d.sweepInterval, 60_000);
  assert.equal(d.staleThreshold, 300_000);
  assert.equal(d.recoveryDelay, 30_000);
  assert.equal(d.sweepUnregistered, false);
  assert.deepEqual(d.resilientFlags, ["infrastructure_resilient"]);
  assert.equal(d.resilientMultiplier, 3);
  const bad = (input: unknown, field: string) =>
    assert.throws(() => resolveRecoveryOptions(input), (e: unknown) => {
      assert.ok(e instanceof ValidationError, String(e));
      assert.equal(e.field, field);
      return true;
    });
  bad({ heartbeatInterval: 1000, staleThreshold: 1000 }, "recovery.staleThreshold");
  bad({ staleThreshold: 10_000 }, "recovery.staleThreshold"); // default heartbeat is 30 s
  bad({ sweepInterval: -1 }, "recovery.sweepInterval");
  bad({ recoveryDelay: 1.5 }, "recovery.recoveryDelay");
  bad({ enabled: "yes" }, "recovery.enabled");
  bad({ sweepUnregistered: 1 }, "recovery.sweepUnregistered");
  bad({ resilientMultiplier: 0 }, "recovery.resilientMultiplier");
  bad({ resilientFlags: [""] }, "recovery.resilientFlags[0]");
  bad({ staleTreshold: 5 }, "recovery");
  bad([], "recovery");
  const off = resolveRecoveryOptions({ enabled: false });
  assert.equal(off.enabled, false);
});

test("utils sweep options are checked before touching the database", async () => {
  await assert.rejects(() => utils.sweepStaleWorkers({ threshold: 0 }), ValidationError);
  await assert.rejects(
    () => utils.sweepStaleWorkers({ dryrun: true } as never),
    /unknown key "dryrun"/,
  );
  await assert.rejects(() => utils.listActiveWorkers({ threshold: -5 }), ValidationError);
});

test("recovery sweep: teardown", async () => {
  await utils.release();
  await driver.close();
  await db.close();
});
