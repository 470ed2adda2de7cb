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
import type { WorkerOptions } from "../src/worker/types.ts";
import { INTERRUPTED_MESSAGE } from "../src/worker/pool.ts";
import { JobAbortedError } from "../src/worker/job_abort.ts";
import { LockResetService } from "../src/worker/lock_reset.ts";
import { defineTask } from "../src/task/define_task.ts";
import { silentLogger } from "../src/logger.ts";
import type { Driver, ListenHandlers } from "../src/driver/types.ts";
import type { Runtime, ShutdownSignal } from "../src/runtime/types.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";

let db: TestDb;

function options(
  driver: Driver,
  extra: Partial<WorkerOptions> & Pick<WorkerOptions, "tasks">,
): WorkerOptions {
  return { driver, schema: db.schema, logger: silentLogger, noHandleSignals: true, ...extra };
}

async function clear(): Promise<void> {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  await db.sql.unsafe(`delete from ${db.s}._private_job_queues`);
}

async function jobCount(): Promise<number> {
  const [{ count }] = await db.sql.unsafe(
    `select count(*)::int as count from ${db.s}._private_jobs`,
  );
  return count;
}

/** A driver wrapper: optionally without LISTEN, or with notifications dropped and handlers exposed. */
function wrapDriver(
  inner: Driver,
  opts: { listen?: boolean; dropNotifications?: boolean },
): Driver & { handlers: Map<string, ListenHandlers> } {
  const handlers = new Map<string, ListenHandlers>();
  return {
    name: `wrapped ${inner.name}`,
    capabilities: { listen: opts.listen ?? true },
    handlers,
    query: (text, params) => inner.query(text, params),
    transaction: (fn) => inner.transaction(fn),
    withConnection: (fn) => inner.withConnection(fn),
    listen(channel, h) {
      handlers.set(channel, h);
      return inner.listen(channel, {
        onNotify: (payload) => {
          if (!opts.dropNotifications) h.onNotify(payload);
        },
        onListen: () => h.onListen?.(),
        onError: (e) => h.onError?.(e),
      });
    },
    sqlState: (e) => inner.sqlState(e),
    close: () => inner.close(),
  };
}

/** A runtime whose signals the test sends by hand. */
function fakeRuntime(): Runtime & { send(s: ShutdownSignal): void; handlerCount(): number } {
  const handlers = new Map<ShutdownSignal, Set<() => void>>();
  return {
    name: "deno",
    version: "test",
    env: () => undefined,
    hostname: () => "test",
    pid: () => 1,
    onSignal(signal, fn) {
      const set = handlers.get(signal) ?? new Set();
      set.add(fn);
      handlers.set(signal, set);
      return () => set.delete(fn);
    },
    spawn() {
      throw new Error("not in tests");
    },
    send(signal) {
      for (const fn of [...(handlers.get(signal) ?? [])]) fn();
    },
    handlerCount: () => [...handlers.values()].reduce((n, s) => n + s.size, 0),
  };
}

test("worker run: setup", async () => {
  db = await setupDb("worker_run");
});

test("run(): LISTEN jobs:insert wakes an idle worker without waiting for the poll", async () => {
  await clear();
  const ran = deferred<string>();
  const task = defineTask({
    identifier: "wake",
    payload: z.object({ v: z.string() }),
    run: (p) => ran.resolve(p.v),
  });
  const driver = db.driver(3);
  const worker = await createWorker(options(driver, { tasks: [task], pollInterval: 600_000 }));
  const running = worker.run();
  // Let the first (empty) fetch happen, then add a job: only the notification can wake the worker.
  await waitFor("the worker to listen", async () => {
    const [{ n }] = await db.sql`select count(*)::int as n from pg_stat_activity
      where query ilike 'listen%jobs:insert%'`;
    return n > 0;
  });
  await new Promise((r) => setTimeout(r, 100));
  await worker.utils.addJob(task, { v: "woken" });
  const value = await Promise.race([
    ran.promise,
    new Promise<string>((r) => setTimeout(() => r("timeout"), 15_000)),
  ]);
  assert.equal(value, "woken");
  await worker.stop();
  await running;
  await driver.close();
});

test("run(): without LISTEN support the worker polls every pollInterval", async () => {
  await clear();
  const ran: number[] = [];
  const task = defineTask({
    identifier: "polled",
    payload: z.object({ n: z.number() }),
    run: (p) => void ran.push(p.n),
  });
  const inner = db.driver(3);
  const driver = wrapDriver(inner, { listen: false });
  const worker = await createWorker(options(driver, { tasks: [task], pollInterval: 100 }));
  const running = worker.run();
  await new Promise((r) => setTimeout(r, 150));
  await db.addJob("polled", { n: 1 });
  await db.addJob("polled", { n: 2 });
  await waitFor("polled jobs", () => ran.length === 2);
  assert.equal(driver.handlers.size, 0, "never subscribed");
  await worker.stop();
  await running;
  await inner.close();
});

test("run(): a job with a future run_at starts once due, within about one poll interval", async () => {
  await clear();
  let startedAt = 0;
  const task = defineTask({
    identifier: "later",
    payload: z.object({}),
    run: () => void (startedAt = Date.now()),
  });
  const driver = db.driver(3);
  const worker = await createWorker(options(driver, { tasks: [task], pollInterval: 250 }));
  const running = worker.run();
  const runAt = Date.now() + 800;
  await db.addJob("later", {}, { runAt: new Date(runAt) });
  await waitFor("the delayed job", () => startedAt > 0);
  assert.ok(startedAt >= runAt - 50, `started ${runAt - startedAt} ms early`);
  assert.ok(startedAt - runAt < 250 + 2000, `started ${startedAt - runAt} ms after run_at`);
  await worker.stop();
  await running;
  await driver.close();
});

test("run(): after a reconnect (onListen again) the worker fetches at once to catch up", async () => {
  await clear();
  const ran = deferred<void>();
  const task = defineTask({
    identifier: "missed",
    payload: z.object({}),
    run: () => ran.resolve(),
  });
  const inner = db.driver(3);
  const driver = wrapDriver(inner, { dropNotifications: true });
  const worker = await createWorker(options(driver, { tasks: [task], pollInterval: 600_000 }));
  const running = worker.run();
  await waitFor("the subscription", () => driver.handlers.get("jobs:insert"));
  await new Promise((r) => setTimeout(r, 100)); // first catch-up fetch done, nothing found
  await db.addJob("missed", {}); // its notification is "lost"
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await jobCount(), 1, "not run without a wake-up");
  driver.handlers.get("jobs:insert")!.onListen!(); // as after a reconnect
  const result = await Promise.race([
    ran.promise.then(() => "ran"),
    new Promise((r) => setTimeout(() => r("timeout"), 15_000)),
  ]);
  assert.equal(result, "ran");
  await worker.stop();
  await running;
  await inner.close();
});

test("run(): a breaking worker:migrate notification for its schema shuts the worker down; a non-breaking one or another schema's does not", async () => {
  await clear();
  const logger = recordingLogger();
  const ran: string[] = [];
  const task = defineTask({
    identifier: "mig",
    payload: z.object({ v: z.string() }),
    run: (p) => void ran.push(p.v),
  });
  const driver = db.driver(3);
  const worker = await createWorker(options(driver, { tasks: [task], logger, pollInterval: 100 }));
  let finished = false;
  const running = worker.run().then(() => void (finished = true));
  await waitFor("the worker to listen", async () => {
    const [{ n }] = await db.sql`select count(*)::int as n from pg_stat_activity
      where query ilike 'listen%worker:migrate%'`;
    return n > 0;
  });
  await db.sql`select pg_notify('worker:migrate', '{"migrationNumber":30,"breaking":false}')`;
  await db.addJob("mig", { v: "after non-breaking" });
  await waitFor("the job after a non-breaking migration", () => ran.length === 1);
  assert.equal(finished, false);
  // A breaking migration of another schema (Spool names it) leaves this worker running.
  await db.sql`select pg_notify('worker:migrate', ${
    JSON.stringify({ migrationNumber: 31, breaking: true, schema: `${db.schema}_other` })
  })`;
  await db.addJob("mig", { v: "after another schema's breaking migration" });
  await waitFor("the job after another schema's breaking migration", () => ran.length === 2);
  assert.equal(finished, false);
  // graphile-worker's payload names no schema: the worker must assume it is its own.
  await db.sql`select pg_notify('worker:migrate', '{"migrationNumber":31,"breaking":true}')`;
  await Promise.race([
    running,
    new Promise((_, j) => setTimeout(() => j(new Error("still running")), 15_000)),
  ]);
  assert.equal(finished, true);
  assert.ok(
    logger.lines.some((l) =>
      l.level === "error" && /breaking migration \(#31\).*shutting down/.test(l.message)
    ),
    JSON.stringify(logger.lines),
  );
  await driver.close();
});

test("stale locks (older than 4 hours) are reset; runOnce does it first", async () => {
  await clear();
  const ran: string[] = [];
  const task = defineTask({
    identifier: "stale",
    payload: z.object({ v: z.string() }),
    run: (p) => void ran.push(p.v),
  });
  await db.addJob("stale", { v: "queued" }, { queueName: "stale_q" });
  await db.addJob("stale", { v: "fresh-lock" });
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set locked_by = 'dead-worker', attempts = 1,
       locked_at = now() - interval '5 hours'
     where payload->>'v' = 'queued'`,
  );
  await db.sql.unsafe(
    `update ${db.s}._private_job_queues set locked_by = 'dead-worker',
       locked_at = now() - interval '5 hours' where queue_name = 'stale_q'`,
  );
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set locked_by = 'live-worker', attempts = 1,
       locked_at = now() - interval '1 hour'
     where payload->>'v' = 'fresh-lock'`,
  );
  const driver = db.driver(3);
  const worker = await createWorker(options(driver, { tasks: [task] }));
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(ran, ["queued"]);
  const rows = await db.jobs();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].locked_by, "live-worker", "a lock younger than 4 hours is kept");
  const [queue] = await db.sql.unsafe(
    `select locked_by from ${db.s}._private_job_queues where queue_name = 'stale_q'`,
  );
  assert.equal(queue.locked_by, null);
  await driver.close();
});

test("LockResetService: first run within a minute, then every 8–10 minutes; idempotent start/stop", async () => {
  const clock = new FakeClock(0);
  let calls = 0;
  const fakeDb = {
    query<R>(text: string): Promise<{ rows: R[]; rowCount: number }> {
      assert.match(text, /interval '4 hours'/);
      calls++;
      return Promise.resolve({ rows: [{ jobs: 0, queues: 0 } as R], rowCount: 1 });
    },
  };
  const service = new LockResetService({
    db: fakeDb,
    schema: "s",
    logger: silentLogger,
    clock,
    localClock: undefined,
    random: () => 0.5,
  });
  service.start();
  service.start();
  assert.equal(clock.pendingTimers, 1);
  await clock.tick(29_999);
  assert.equal(calls, 0);
  await clock.tick(1);
  assert.equal(calls, 1);
  await clock.tick(539_999); // 480 s + 0.5 × 120 s = 540 s
  assert.equal(calls, 1);
  await clock.tick(1);
  assert.equal(calls, 2);
  await service.stop();
  await service.stop();
  assert.equal(clock.pendingTimers, 0);
  await clock.tick(3_600_000);
  assert.equal(calls, 2);
});

test("stop(): running jobs finish within the grace period; later ones are aborted and handed back", async () => {
  await clear();
  const quickStarted = deferred<void>();
  const stubbornStarted = deferred<void>();
  let sawAbort = false;
  let abortReason: unknown;
  let quickDone = false;
  const quick = defineTask({
    identifier: "quick",
    payload: z.object({}),
    async run() {
      quickStarted.resolve();
      await new Promise((r) => setTimeout(r, 300));
      quickDone = true;
    },
  });
  const stubborn = defineTask({
    identifier: "stubborn",
    payload: z.object({}),
    async run(_p, ctx) {
      stubbornStarted.resolve();
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener("abort", () => resolve(), { once: true })
      );
      sawAbort = true;
      abortReason = ctx.signal.reason;
      throw new Error("aborted by shutdown");
    },
  });
  const ignorant = defineTask({
    identifier: "ignorant",
    payload: z.object({}),
    run: () => new Promise(() => {}), // never settles, ignores the signal
  });
  const quickId = await db.addJob("quick", {});
  const stubbornId = await db.addJob("stubborn", {}, { queueName: "stop_q" });
  const ignorantId = await db.addJob("ignorant", {});
  const driver = db.driver(3);
  const worker = await createWorker(options(driver, {
    tasks: [quick, stubborn, ignorant],
    concurrency: 3,
    gracePeriod: 1000,
    interruptedJobRetryDelay: 60_000,
  }));
  const running = worker.run();
  await Promise.all([quickStarted.promise, stubbornStarted.promise]);
  await waitFor("all three jobs locked", async () => {
    const rows = await db.jobs();
    return rows.filter((r) => r.locked_by === worker.id).length === 3;
  });
  const stoppedAt = Date.now();
  await worker.stop();
  await running;
  const [{ now }] = await db.sql`select now() as now`;
  assert.ok(Date.now() - stoppedAt >= 900, "waited for the grace period");
  assert.equal(quickDone, true);
  const rows = await db.jobs();
  assert.ok(!rows.some((r) => r.id === quickId), "the quick job completed");
  for (const id of [stubbornId, ignorantId]) {
    const row = rows.find((r) => r.id === id)!;
    assert.ok(row, `job ${id} kept`);
    assert.equal(row.locked_by, null);
    assert.equal(row.locked_at, null);
    assert.equal(row.attempts, 0, "the interrupted attempt is not used up");
    assert.equal(row.last_error, INTERRUPTED_MESSAGE);
    const delay = row.run_at.getTime() - (now as Date).getTime();
    assert.ok(delay > 55_000 && delay <= 60_000, `run_at pushed by ~60 s (got ${delay} ms)`);
  }
  await waitFor("the stubborn task to see the abort", () => sawAbort);
  assert.ok(abortReason instanceof JobAbortedError, "the signal's reason says why");
  assert.equal(abortReason.kind, "shutdown");
  assert.equal(abortReason.jobId, stubbornId);
  const [queue] = await db.sql.unsafe(
    `select locked_by from ${db.s}._private_job_queues where queue_name = 'stop_q'`,
  );
  assert.equal(queue.locked_by, null, "queue unlocked");
  // The late failure of the aborted task must not have touched the handed-back row.
  const again = (await db.jobs()).find((r) => r.id === stubbornId)!;
  assert.equal(again.last_error, INTERRUPTED_MESSAGE);
  await driver.close();
});

test("signals: the first SIGTERM stops gracefully, a second one skips the grace period", async () => {
  await clear();
  const started = deferred<void>();
  const task = defineTask({
    identifier: "sig_block",
    payload: z.object({}),
    run: (_p, ctx) =>
      new Promise<void>((_resolve, reject) => {
        started.resolve();
        ctx.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
      }),
  });
  const id = await db.addJob("sig_block", {});
  const runtime = fakeRuntime();
  const driver = db.driver(3);
  const worker = await createWorker(options(driver, {
    tasks: [task],
    noHandleSignals: false,
    runtime,
    gracePeriod: 600_000,
    interruptedJobRetryDelay: 1000,
  }));
  let finished = false;
  const running = worker.run().then(() => void (finished = true));
  await started.promise;
  assert.equal(runtime.handlerCount(), 2, "SIGINT and SIGTERM handlers installed");
  runtime.send("SIGTERM");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(finished, false, "waiting for the grace period");
  runtime.send("SIGINT");
  await Promise.race([
    running,
    new Promise((_, j) => setTimeout(() => j(new Error("not stopped")), 10_000)),
  ]);
  assert.equal(runtime.handlerCount(), 0, "handlers removed after shutdown");
  const [row] = await db.jobs();
  assert.equal(row.id, id);
  assert.equal(row.locked_by, null);
  assert.equal(row.attempts, 0);
  await driver.close();
});

test("noHandleSignals: true installs no handlers", async () => {
  const runtime = fakeRuntime();
  const task = defineTask({ identifier: "nosig", payload: z.object({}), run: () => {} });
  const driver = db.driver(2);
  const worker = await createWorker(
    options(driver, { tasks: [task], runtime, noHandleSignals: true }),
  );
  const running = worker.run();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(runtime.handlerCount(), 0);
  await worker.stop();
  await running;
  await driver.close();
});

test("worker run: teardown", async () => {
  await db.close();
});
