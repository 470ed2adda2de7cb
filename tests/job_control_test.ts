/**
 * Running-job control in one process: per-job signals, timeouts (honoured
 * and ignored), retry after a timeout, cancellation of waiting, queued,
 * running and finished jobs, per-task defaults, and option checks.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import {
  deferred,
  recordingLogger,
  setupDb,
  type TestDb,
  waitFor,
} from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import { defineTask } from "../src/task/define_task.ts";
import { defineBatchTask } from "../src/task/define_batch_task.ts";
import { JobAbortedError } from "../src/worker/job_abort.ts";
import { ValidationError } from "../src/errors.ts";
import { silentLogger } from "../src/logger.ts";
import { resolveRecoveryOptions } from "../src/recovery/options.ts";
import type { AnyTaskDefinition, Worker, WorkerOptions } from "../src/worker/types.ts";

let db: TestDb;

test("job control: setup", async () => {
  db = await setupDb("job_control");
});

async function startWorker(
  tasks: AnyTaskDefinition[],
  options: Partial<WorkerOptions> = {},
): Promise<{ worker: Worker; stop: () => Promise<void> }> {
  const worker = await createWorker({
    driver: db.driver(4),
    schema: db.schema,
    tasks,
    logger: silentLogger,
    noHandleSignals: true,
    pollInterval: 100,
    gracePeriod: 1000,
    ...options,
  });
  const running = worker.run();
  return {
    worker,
    stop: async () => {
      await worker.stop();
      await running;
    },
  };
}

async function jobRow(id: string) {
  return (await db.jobs()).find((j) => j.id === id);
}

/** Resolves with the signal's reason once it is aborted, then throws it (an honouring task). */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

test("each job has its own signal: cancelling one leaves the others running", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const signals = new Map<string, AbortSignal>();
  const release = deferred();
  const task = defineTask({
    identifier: "iso_job",
    payload: z.object({ n: z.number() }),
    async run(_p, ctx) {
      signals.set(ctx.job.id, ctx.signal);
      await Promise.race([release.promise, untilAborted(ctx.signal)]);
    },
  });
  const { worker, stop } = await startWorker([task], { concurrency: 3 });
  try {
    const jobs = await Promise.all([1, 2, 3].map((n) => worker.utils.addJob(task, { n })));
    await waitFor("three jobs running", () => signals.size === 3);
    assert.equal(new Set(signals.values()).size, 3, "three distinct signals");
    const target = jobs[1].id;
    const result = await worker.utils.cancelJobs([target], { reason: "stop it" });
    assert.deepEqual(result, { cancelled: [], running: [target] });
    await waitFor("the cancelled job to fail", async () => {
      const row = await jobRow(target);
      return row?.locked_by === null && row.last_error !== null;
    });
    const reason = signals.get(target)!.reason;
    assert.ok(reason instanceof JobAbortedError);
    assert.equal(reason.kind, "cancelled");
    assert.equal(reason.cancelReason, "stop it");
    for (const j of [jobs[0], jobs[2]]) {
      assert.equal(signals.get(j.id)!.aborted, false, `job ${j.id} keeps running`);
    }
    const row = (await jobRow(target))!;
    assert.equal(row.last_error, "cancelled: stop it");
    assert.equal(row.attempts, row.max_attempts, "permanently failed, never retried");
    release.resolve();
    await waitFor("the other two to complete", async () => (await db.jobs()).length === 1);
  } finally {
    release.resolve();
    await stop();
  }
});

test("a timeout aborts a task that honours its signal; the attempt fails and is retried", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const runs: Array<{ attempts: number; reason: unknown }> = [];
  const task = defineTask({
    identifier: "slow_once",
    payload: z.object({}),
    timeout: 300,
    backoff: () => 0, // the task's own retry delay: at once
    maxAttempts: 3,
    async run(_p, ctx) {
      const run = { attempts: ctx.job.attempts, reason: undefined as unknown };
      runs.push(run);
      if (ctx.job.attempts > 1) return; // the retry succeeds
      try {
        await untilAborted(ctx.signal);
      } catch (error) {
        run.reason = error;
        throw error;
      }
    },
  });
  const { worker, stop } = await startWorker([task]);
  try {
    const job = await worker.utils.addJob(task, {});
    assert.equal(job.maxAttempts, 3, "maxAttempts from the task definition");
    await waitFor("the first attempt to time out", async () => {
      const row = await jobRow(job.id);
      return row?.last_error != null || row === undefined;
    });
    await waitFor("the retry to complete the job", async () => !(await jobRow(job.id)));
    assert.equal(runs.length, 2);
    const reason = runs[0].reason;
    assert.ok(reason instanceof JobAbortedError);
    assert.equal(reason.kind, "timeout");
    assert.equal(reason.timeoutMs, 300);
    assert.equal(reason.message, "timed out after 300 ms");
    assert.equal(runs[1].attempts, 2, "the timed-out attempt counted");
  } finally {
    await stop();
  }
});

test("a task ignoring its timeout: outcome discarded, slot freed after the grace, a warning names the job", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const logger = recordingLogger();
  const stuck = deferred();
  let stuckReturned = false;
  const ignoring = defineTask({
    identifier: "ignores_signal",
    payload: z.object({}),
    timeout: "1s",
    maxAttempts: 1,
    async run() {
      await stuck.promise; // never looks at ctx.signal
      stuckReturned = true;
    },
  });
  const quick = defineTask({ identifier: "quick", payload: z.object({}), run() {} });
  const { worker, stop } = await startWorker([ignoring, quick], { concurrency: 1, logger });
  try {
    const job = await worker.utils.addJob(ignoring, {});
    await waitFor("the job to start", async () => (await jobRow(job.id))?.locked_by != null);
    const other = await worker.utils.addJob(quick, {}, { runAt: new Date(Date.now() + 200) });
    await waitFor("the job to be failed as timed out", async () => {
      const row = await jobRow(job.id);
      return row?.last_error === "timed out after 1 s" && row.locked_by === null;
    });
    await waitFor(
      "the freed slot to run the next job",
      async () => !(await jobRow(other.id)),
    );
    assert.ok(
      logger.lines.some((l) =>
        l.level === "warn" && l.message.includes(`Job ${job.id} (ignores_signal) did not stop`)
      ),
      JSON.stringify(logger.lines),
    );
    stuck.resolve();
    await waitFor("the stuck task to return", () => stuckReturned);
    await new Promise((r) => setTimeout(r, 300));
    const row = await jobRow(job.id);
    assert.ok(row, "returning late did not complete the job");
    assert.equal(row.last_error, "timed out after 1 s");
    assert.equal(row.attempts, 1);
  } finally {
    stuck.resolve();
    await stop();
  }
});

test("the worker's jobTimeout applies unless the task says timeout: none", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const limited = defineTask({
    identifier: "limited",
    payload: z.object({}),
    maxAttempts: 1,
    run: (_p, ctx) => untilAborted(ctx.signal),
  });
  const unlimited = defineTask({
    identifier: "unlimited",
    payload: z.object({}),
    timeout: "none",
    run: () => new Promise((r) => setTimeout(r, 800)),
  });
  const { worker, stop } = await startWorker([limited, unlimited], {
    concurrency: 2,
    jobTimeout: 200,
  });
  try {
    const a = await worker.utils.addJob(limited, {});
    const b = await worker.utils.addJob(unlimited, {});
    await waitFor("the limited job to time out", async () => {
      const row = await jobRow(a.id);
      return row?.last_error === "timed out after 200 ms" && row.locked_by === null;
    });
    await waitFor("the unlimited job to complete", async () => !(await jobRow(b.id)));
  } finally {
    await stop();
  }
});

test("cancelling a waiting job fails it permanently and it never runs", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  let ran = 0;
  const task = defineTask({
    identifier: "never_runs",
    payload: z.object({}),
    run: () => void ran++,
  });
  const { createWorkerUtils } = await import("../src/utils/worker_utils.ts");
  const utils = createWorkerUtils({ driver: db.driver(2), schema: db.schema });
  try {
    const id = await db.addJob("never_runs", {}, { maxAttempts: 4 });
    const byKey = await db.addJob("never_runs", {}, { jobKey: "wait-key" });
    assert.deepEqual(await utils.cancelJobs([id], { reason: "not needed" }), {
      cancelled: [id],
      running: [],
    });
    assert.deepEqual(await utils.cancelJobByKey("wait-key"), { cancelled: [byKey], running: [] });
    const row = (await jobRow(id))!;
    assert.equal(row.last_error, "cancelled: not needed");
    assert.equal(row.attempts, 4);
    assert.equal(row.max_attempts, 4);
    assert.equal((await jobRow(byKey))!.last_error, "cancelled");
    // Cancelling again changes nothing (already permanently failed).
    assert.deepEqual(await utils.cancelJobs([id], { reason: "again" }), {
      cancelled: [],
      running: [],
    });
    assert.equal((await jobRow(id))!.last_error, "cancelled: not needed");
    const w = await createWorker({
      driver: db.driver(2),
      schema: db.schema,
      tasks: [task],
      logger: silentLogger,
      noHandleSignals: true,
    });
    await w.runOnce();
    await w.stop();
    assert.equal(ran, 0, "a cancelled job never runs");
  } finally {
    await utils.driver.close();
  }
});

test("cancel by key of a running job; a job fetched but not started is failed without running", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const started: string[] = [];
  const release = deferred();
  const task = defineTask({
    identifier: "keyed_run",
    payload: z.object({}),
    async run(_p, ctx) {
      started.push(ctx.job.id);
      await Promise.race([release.promise, untilAborted(ctx.signal)]);
    },
  });
  const { worker, stop } = await startWorker([task], {
    concurrency: 1,
    localQueue: { size: 4 },
  });
  try {
    const first = await worker.utils.addJob(task, {}, { jobKey: "running-key" });
    await waitFor("the first job to run", () => started.length === 1);
    const second = await worker.utils.addJob(task, {});
    await waitFor("the second job to be fetched", async () => {
      return (await jobRow(second.id))?.locked_by != null;
    });
    const queued = await worker.utils.cancelJobs([second.id], { reason: "queued" });
    assert.deepEqual(queued, { cancelled: [], running: [second.id] });
    await waitFor("the queued job to be failed", async () => {
      return (await jobRow(second.id))?.last_error === "cancelled: queued";
    });
    assert.deepEqual(started, [first.id], "the queued job never started");
    const byKey = await worker.utils.cancelJobByKey("running-key", { reason: "by key" });
    assert.deepEqual(byKey, { cancelled: [], running: [first.id] });
    await waitFor("the running job to be failed", async () => {
      const row = await jobRow(first.id);
      return row?.last_error === "cancelled: by key" && row.locked_by === null;
    });
    const row = (await jobRow(first.id))!;
    assert.equal(row.attempts, row.max_attempts);
  } finally {
    release.resolve();
    await stop();
  }
});

test("a cancel that arrives while the job's failure is being written still stops its retries", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  let runs = 0;
  const task = defineTask({
    identifier: "fails_then_cancelled",
    payload: z.object({}),
    backoff: () => 0,
    run() {
      runs++;
      throw new Error("boom");
    },
  });
  // The failure write waits 1.5 s, so the cancel lands while it is pending.
  const { worker, stop } = await startWorker([task], { failJobBatchDelay: 1500 });
  try {
    const job = await worker.utils.addJob(task, {});
    await waitFor("the task to fail", () => runs === 1);
    const result = await worker.utils.cancelJobs([job.id], { reason: "late" });
    assert.deepEqual(result, { cancelled: [], running: [job.id] });
    await waitFor("the job to be cancelled after its failure was written", async () => {
      const row = await jobRow(job.id);
      return row?.last_error === "cancelled: late" && row.attempts === row.max_attempts;
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(runs, 1, "never retried");
  } finally {
    await stop();
  }
});

test("cancelling a job that just finished is no error and changes nothing", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const task = defineTask({ identifier: "done_fast", payload: z.object({}), run() {} });
  const { worker, stop } = await startWorker([task]);
  try {
    const job = await worker.utils.addJob(task, {}, { jobKey: "done-key" });
    await waitFor("the job to complete", async () => !(await jobRow(job.id)));
    assert.deepEqual(await worker.utils.cancelJobs([job.id]), { cancelled: [], running: [] });
    assert.deepEqual(await worker.utils.cancelJobByKey("done-key"), {
      cancelled: [],
      running: [],
    });
    assert.deepEqual(await worker.utils.cancelJobs([]), { cancelled: [], running: [] });
    assert.equal((await db.jobs()).length, 0);
  } finally {
    await stop();
  }
});

test("task defaults: maxAttempts, queueName and priority from the definition; job options win", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const task = defineTask({
    identifier: "with_defaults",
    payload: z.object({}),
    maxAttempts: 3,
    queueName: "defaults_q",
    priority: 5,
    run() {},
  });
  const batch = defineBatchTask({
    identifier: "batch_defaults",
    item: z.number(),
    maxAttempts: 2,
    priority: -3,
    timeout: "2m",
    run() {},
  });
  assert.equal(batch.timeout, 120_000);
  const { createWorkerUtils } = await import("../src/utils/worker_utils.ts");
  const utils = createWorkerUtils({ driver: db.driver(2), schema: db.schema });
  try {
    const a = await utils.addJob(task, {});
    assert.deepEqual([a.maxAttempts, a.queueName, a.priority], [3, "defaults_q", 5]);
    const b = await utils.addJob(task, {}, { maxAttempts: 7, queueName: "other_q", priority: 1 });
    assert.deepEqual([b.maxAttempts, b.queueName, b.priority], [7, "other_q", 1]);
    const [c] = await utils.addJobs(task, [{ payload: {}, options: { priority: 9 } }]);
    assert.deepEqual([c.maxAttempts, c.queueName, c.priority], [3, "defaults_q", 9]);
    const d = await utils.addBatchJob(batch, [1, 2]);
    assert.deepEqual([d.maxAttempts, d.priority], [2, -3]);
    const raw = await utils.addRawJob("with_defaults", {});
    assert.deepEqual([raw.maxAttempts, raw.queueName], [25, null], "raw adds have no task");
  } finally {
    await utils.driver.close();
  }
});

test("bad timeouts, defaults, cancel reasons and recovery bounds are named errors", async () => {
  const bad = (fn: () => unknown, field: string) =>
    assert.throws(fn, (e: unknown) => e instanceof ValidationError && e.field === field);
  const base = { identifier: "x", payload: z.object({}), run() {} };
  bad(() => defineTask({ ...base, timeout: "soon" }), "timeout");
  bad(() => defineTask({ ...base, timeout: 0 }), "timeout");
  bad(() => defineTask({ ...base, timeout: 2 ** 31 }), "timeout");
  bad(() => defineTask({ ...base, maxAttempts: 0 }), "task.maxAttempts");
  bad(() => defineTask({ ...base, priority: 1.5 }), "task.priority");
  bad(() => defineTask({ ...base, backoff: 3 as never }), "backoff");
  assert.equal(defineTask({ ...base, timeout: "1m 30s" }).timeout, 90_000);
  assert.equal(defineTask({ ...base, timeout: "none" }).timeout, null);
  await assert.rejects(
    createWorker({ tasks: [], jobTimeout: "later", logger: silentLogger }),
    (e: unknown) => e instanceof ValidationError && e.field === "jobTimeout",
  );
  const { createWorkerUtils } = await import("../src/utils/worker_utils.ts");
  const utils = createWorkerUtils({ driver: db.driver(1), schema: db.schema });
  try {
    await assert.rejects(
      utils.cancelJobs(["1"], { reason: "x".repeat(1001) }),
      (e: unknown) => e instanceof ValidationError && e.field === "options.reason",
    );
    await assert.rejects(
      utils.cancelJobs(["1"], { why: "typo" } as never),
      (e: unknown) => e instanceof ValidationError && e.field === "options",
    );
    await assert.rejects(
      utils.cancelJobs(["abc"]),
      (e: unknown) => e instanceof ValidationError && e.field === "ids[0]",
    );
  } finally {
    await utils.driver.close();
  }
  bad(
    () => resolveRecoveryOptions({ heartbeatInterval: 1000, staleThreshold: 1999 }),
    "recovery.staleThreshold",
  );
  assert.equal(
    resolveRecoveryOptions({ heartbeatInterval: 1000, staleThreshold: 2000 }).staleThreshold,
    2000,
  );
});

test("a sweeper never judges a worker by a shorter threshold than the one it declared", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const { createWorkerUtils } = await import("../src/utils/worker_utils.ts");
  const utils = createWorkerUtils({ driver: db.driver(2), schema: db.schema });
  try {
    const patient = await db.addJob("held_job", {});
    const plain = await db.addJob("held_job", {});
    await db.sql.unsafe(
      `insert into ${db.s}._private_workers (id, last_heartbeat_at, metadata) values
         ('w_declares_60s', now() - interval '10 seconds', '{"staleThresholdMs": 60000}'),
         ('w_declares_none', now() - interval '10 seconds', '{"library": "other"}')`,
    );
    await db.sql.unsafe(
      `update ${db.s}._private_jobs set locked_by = case id when $1 then 'w_declares_60s'
         else 'w_declares_none' end, locked_at = now() where id in ($1, $2)`,
      [patient, plain],
    );
    const result = await utils.sweepStaleWorkers({ threshold: 1000, recoveryDelay: 0 });
    assert.deepEqual(result.workerIds, ["w_declares_none"]);
    assert.deepEqual(result.jobIds, [plain]);
    assert.equal((await jobRow(patient))!.locked_by, "w_declares_60s");
  } finally {
    await db.sql.unsafe(`delete from ${db.s}._private_workers`);
    await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
    await utils.driver.close();
  }
});

test("job control: teardown", async () => {
  await db.close();
});
