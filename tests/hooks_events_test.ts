/** Lifecycle hooks on a real worker: which events fire, with what context, in what order. */
import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import type { WorkerOptions } from "../src/worker/types.ts";
import { defineTask } from "../src/task/define_task.ts";
import { defineBatchTask } from "../src/task/define_batch_task.ts";
import { BatchResult } from "../src/task/batch_result.ts";
import { silentLogger } from "../src/logger.ts";
import type { HookEventName, HookEvents, Plugin } from "../src/hooks/types.ts";
import { hookNames } from "../src/hooks/plugins.ts";

let db: TestDb;

type Recorded = { [E in HookEventName]: { event: E; ctx: HookEvents[E] } }[HookEventName];

/** A plugin that records every observer event. */
function recorder(): { plugin: Plugin; events: Recorded[]; names(): string[] } {
  const events: Recorded[] = [];
  const plugin: Plugin = {
    name: "recorder",
    setup(api) {
      for (const name of hookNames()) {
        if (name === "beforeJobRun" || name === "beforeJobSchedule" || name === "aroundJobRun") {
          continue;
        }
        // Fired per fetch and per add: tested in tests/hooks_around_test.ts.
        if (name === "worker:fetch" || name === "job:added") continue;
        const event = name as HookEventName;
        api.on(event, (ctx: unknown) => void events.push({ event, ctx } as Recorded));
      }
    },
  };
  return { plugin, events, names: () => events.map((e) => e.event) };
}

function of<E extends HookEventName>(events: Recorded[], event: E): HookEvents[E][] {
  return events.filter((e) => e.event === event).map((e) => e.ctx as HookEvents[E]);
}

function options(extra: Partial<WorkerOptions> & Pick<WorkerOptions, "tasks">): WorkerOptions {
  return {
    database: databaseUrl(),
    maxPoolSize: 2,
    schema: db.schema,
    logger: silentLogger,
    noHandleSignals: true,
    recovery: { enabled: false },
    ...extra,
  };
}

const Payload = z.object({
  n: z.number(),
  throws: z.boolean().optional(),
  skip: z.boolean().optional(),
  force_fail: z.boolean().optional(),
});
const ran: number[] = [];
const work = defineTask({
  identifier: "hooks_work",
  payload: Payload,
  run(p) {
    ran.push(p.n);
    if (p.throws) throw new Error(`job ${p.n} broke`);
  },
});

/** Skip / fail from payload fields, as in the seeds' ValidationPlugin. */
const validation: Plugin = {
  name: "validation",
  hooks: {
    beforeJobRun(ctx) {
      const p = ctx.job.payload as { skip?: boolean; force_fail?: boolean };
      if (p.skip) return { skip: true };
      if (p.force_fail) return { fail: "force_fail was set" };
      return undefined;
    },
  },
};

test("hooks events: setup", async () => {
  db = await setupDb("hooks_events");
});

test("success: worker:start, job:fetch, job:start, job:complete, worker:shutdown, in order", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const rec = recorder();
  const id = await db.addJob("hooks_work", { n: 1 }, { queueName: "q1", priority: 3 });
  const worker = await createWorker(options({ tasks: [work], plugins: [rec.plugin] }));
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(rec.names(), [
    "worker:start",
    "job:fetch",
    "job:start",
    "job:complete",
    "worker:shutdown",
  ]);
  const [start] = of(rec.events, "worker:start");
  assert.equal(start.workerId, worker.id);
  assert.equal(start.schema, db.schema);
  assert.deepEqual(start.tasks, ["hooks_work"]);
  const [fetched] = of(rec.events, "job:fetch");
  assert.equal(fetched.job.id, id);
  assert.equal(fetched.job.identifier, "hooks_work");
  assert.deepEqual(fetched.job.payload, { n: 1 });
  assert.equal(fetched.job.queueName, "q1");
  assert.equal(fetched.job.priority, 3);
  assert.equal(fetched.job.attempts, 1);
  const [done] = of(rec.events, "job:complete");
  assert.equal(done.job, fetched.job, "one view object per job");
  assert.equal(done.skipped, false);
  assert.ok(done.durationMs >= 0);
  assert.equal((await db.jobs()).length, 0);
});

test("failure: job:fail (error, cause, attempts, not permanent) then job:retry with run_at", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const rec = recorder();
  const id = await db.addJob("hooks_work", { n: 2, throws: true }, { maxAttempts: 3 });
  const worker = await createWorker(options({ tasks: [work], plugins: [rec.plugin] }));
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(rec.names(), [
    "worker:start",
    "job:fetch",
    "job:start",
    "job:fail",
    "job:retry",
    "worker:shutdown",
  ]);
  const [fail] = of(rec.events, "job:fail");
  assert.equal(fail.job.id, id);
  assert.equal(fail.error, "job 2 broke");
  assert.ok(fail.cause instanceof Error && fail.cause.message === "job 2 broke");
  assert.equal(fail.attempts, 1);
  assert.equal(fail.maxAttempts, 3);
  assert.equal(fail.permanent, false);
  assert.equal(fail.retryItems, undefined);
  const [retry] = of(rec.events, "job:retry");
  const [row] = await db.jobs();
  assert.equal(retry.runAt.getTime(), row.run_at.getTime());
  assert.equal(retry.attempts, 1);
  assert.equal(row.last_error, "job 2 broke");
});

test("permanent failure: job:fail permanent, no job:retry", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const rec = recorder();
  await db.addJob("hooks_work", { n: 3, throws: true }, { maxAttempts: 1 });
  const worker = await createWorker(options({ tasks: [work], plugins: [rec.plugin] }));
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(rec.names(), [
    "worker:start",
    "job:fetch",
    "job:start",
    "job:fail",
    "worker:shutdown",
  ]);
  const [fail] = of(rec.events, "job:fail");
  assert.equal(fail.permanent, true);
  assert.equal(fail.attempts, 1);
  assert.equal(fail.maxAttempts, 1);
});

test("beforeJobRun skip: the job completes without running (no job:start)", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  ran.length = 0;
  const rec = recorder();
  await db.addJob("hooks_work", { n: 4, skip: true });
  const worker = await createWorker(
    options({ tasks: [work], plugins: [validation, rec.plugin] }),
  );
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(ran, []);
  assert.deepEqual(rec.names(), ["worker:start", "job:fetch", "job:complete", "worker:shutdown"]);
  const [done] = of(rec.events, "job:complete");
  assert.equal(done.skipped, true);
  assert.equal((await db.jobs()).length, 0, "the skipped job is deleted like a completed one");
});

test("beforeJobRun fail: the attempt fails with the reason and the task does not run", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  ran.length = 0;
  const rec = recorder();
  await db.addJob("hooks_work", { n: 5, force_fail: true }, { maxAttempts: 5 });
  await db.addJob("hooks_work", { n: 6 });
  const worker = await createWorker(
    options({ tasks: [work], plugins: [validation, rec.plugin] }),
  );
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(ran, [6]);
  const fails = of(rec.events, "job:fail");
  assert.equal(fails.length, 1);
  assert.equal(fails[0].error, "force_fail was set");
  assert.equal(fails[0].permanent, false);
  assert.equal(of(rec.events, "job:start").length, 1, "only the job that ran started");
  const [row] = await db.jobs();
  assert.equal(row.last_error, "force_fail was set");
  assert.equal(row.attempts, 1);
});

test("batch partial failure: job:fail carries the items kept for the retry", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const batch = defineBatchTask({
    identifier: "hooks_batch",
    item: z.object({ n: z.number() }),
    run: (items) => items.map((i) => i.n % 2 === 0 ? BatchResult.ok() : BatchResult.fail("odd")),
  });
  const rec = recorder();
  await db.addJob("hooks_batch", [{ n: 1 }, { n: 2 }, { n: 3 }], { maxAttempts: 4 });
  const worker = await createWorker(options({ tasks: [batch], plugins: [rec.plugin] }));
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(rec.names(), [
    "worker:start",
    "job:fetch",
    "job:start",
    "job:fail",
    "job:retry",
    "worker:shutdown",
  ]);
  const [fail] = of(rec.events, "job:fail");
  assert.deepEqual(fail.retryItems, [{ n: 1 }, { n: 3 }]);
  assert.match(fail.error, /2 of 3 items failed/);
  assert.equal(fail.permanent, false);
  const [row] = await db.jobs();
  assert.deepEqual(row.payload, [{ n: 1 }, { n: 3 }]);
});

test("local queue: jobs waiting past the ttl are returned with reason ttl", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started = 0;
  const slow = defineTask({
    identifier: "hooks_slow",
    payload: z.object({ n: z.number() }),
    async run() {
      started++;
      if (started === 1) await gate;
    },
  });
  for (let n = 0; n < 3; n++) await db.addJob("hooks_slow", { n });
  const rec = recorder();
  const worker = await createWorker(options({
    tasks: [slow],
    plugins: [rec.plugin],
    concurrency: 1,
    localQueue: { size: 4, ttl: 150 },
    pollInterval: 100,
  }));
  const running = worker.run();
  try {
    const deadline = Date.now() + 10_000;
    while (of(rec.events, "localQueue:return").length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    release();
    const [ret] = of(rec.events, "localQueue:return");
    assert.ok(ret, "a localQueue:return event fired");
    assert.equal(ret.reason, "ttl");
    assert.equal(ret.jobs.length, 2);
    while ((await db.jobs()).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal((await db.jobs()).length, 0, "the returned jobs ran later");
  } finally {
    release();
    await worker.stop();
    await running;
  }
});

test("hooks events: teardown", async () => {
  await db.close();
});
