import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import type { WorkerOptions } from "../src/worker/types.ts";
import { defineTask } from "../src/task/define_task.ts";
import { silentLogger } from "../src/logger.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";
import { LocalQueue, type LocalQueueConfig } from "../src/worker/local_queue.ts";
import type { FetchedJob } from "../src/worker/fetcher.ts";

let db: TestDb;

function options(extra: Partial<WorkerOptions> & Pick<WorkerOptions, "tasks">): WorkerOptions {
  return {
    database: databaseUrl(),
    maxPoolSize: 4,
    schema: db.schema,
    logger: silentLogger,
    noHandleSignals: true,
    ...extra,
  };
}

async function clear(): Promise<void> {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  await db.sql.unsafe(`delete from ${db.s}._private_job_queues`);
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function fakeJob(id: number, queueId: number | null = null): FetchedJob {
  return {
    id: String(id),
    job_queue_id: queueId,
    queue_name: queueId === null ? null : `q${queueId}`,
    task_id: 1,
    payload: {},
    priority: 0,
    run_at: new Date(0),
    attempts: 1,
    max_attempts: 25,
    key: null,
    flags: null,
    created_at: new Date(0),
    locked_at: new Date(0),
    identifier: "t",
  };
}

/** A LocalQueue over a scripted fetch; `available` is what the "database" holds. */
function scripted(extra: Partial<LocalQueueConfig> = {}, fetchDelayMs = -1) {
  const clock = new FakeClock(0);
  const fetches: number[] = [];
  const returned: string[] = [];
  let available: FetchedJob[] = [];
  const queue = new LocalQueue({
    fetch: (count) => {
      fetches.push(count);
      const out = available.slice(0, count);
      available = available.slice(count);
      if (fetchDelayMs < 0) return Promise.resolve(out);
      return new Promise((r) => setTimeout(() => r(out), fetchDelayMs)); // a database round trip
    },
    handBack: (jobs) => {
      returned.push(...jobs.map((j) => j.id));
      available.push(...jobs);
      return Promise.resolve();
    },
    concurrency: 2,
    pollInterval: 10_000,
    size: 6,
    ttl: 1000,
    refetchDelay: undefined,
    clock,
    logger: silentLogger,
    onOnceEnd: () => {},
    random: () => 0.5,
    ...extra,
  });
  return {
    queue,
    clock,
    fetches,
    returned,
    add(jobs: FetchedJob[]) {
      available.push(...jobs);
    },
    get available() {
      return available.length;
    },
  };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

test("local queue: setup", async () => {
  db = await setupDb("local_queue");
});

test("local queue fetches idle slots + size in one round trip and hands jobs out in order", async () => {
  const s = scripted();
  s.add(Array.from({ length: 20 }, (_, i) => fakeJob(i + 1)));
  s.queue.start("continuous");
  await flush();
  assert.deepEqual(s.fetches, [8]); // 2 idle slots + 6 queued
  assert.equal(s.queue.queued, 8);
  const a = await s.queue.take();
  const b = await s.queue.take();
  assert.deepEqual([a?.id, b?.id], ["1", "2"]);
  s.queue.started();
  s.queue.started();
  // 6 left queued: no refetch until half a queue's worth of room is free.
  await flush();
  assert.deepEqual(s.fetches, [8]);
  for (let i = 0; i < 3; i++) {
    await s.queue.take();
    s.queue.started();
    s.queue.finished();
    s.queue.release(1);
  }
  await flush();
  assert.ok(s.fetches.length >= 2, `refetched when low: ${s.fetches}`);
  await s.queue.stop();
});

/** Two slots that run every job at once, until the queue stops. */
function fastSlots(queue: LocalQueue): Promise<void[]> {
  const slot = async () => {
    for (;;) {
      const job = queue.takeNow() ?? await queue.take();
      if (!job) return;
      queue.started();
      await new Promise((r) => setTimeout(r, 0));
      queue.finished();
      queue.release(1);
    }
  };
  return Promise.all([slot(), slot()]);
}

test("the default local queue grows while slots run dry, and shrinks back once the backlog is drained", async () => {
  const s = scripted({ size: 4, maxSize: 16 }, 20);
  s.add(Array.from({ length: 400 }, (_, i) => fakeJob(i + 1)));
  s.queue.start("continuous");
  const slots = fastSlots(s.queue);
  let grownTo = 0;
  for (let i = 0; i < 400 && s.available > 0; i++) {
    grownTo = Math.max(grownTo, s.queue.size);
    await flush();
  }
  assert.equal(s.available, 0, "drained");
  assert.equal(grownTo, 16, `grew to maxSize (fetches ${s.fetches})`);
  assert.ok(Math.max(...s.fetches) > 4 + 2, `bigger batches: ${s.fetches}`);
  for (let i = 0; i < 50 && s.queue.size !== 4; i++) await flush();
  assert.equal(s.queue.size, 4, "back to size after a short fetch");
  await s.queue.stop();
  await slots;
});

test("a local queue without maxSize keeps its size", async () => {
  const s = scripted({ size: 4 }, 20);
  s.add(Array.from({ length: 200 }, (_, i) => fakeJob(i + 1)));
  s.queue.start("continuous");
  const slots = fastSlots(s.queue);
  for (let i = 0; i < 400 && s.available > 0; i++) {
    assert.equal(s.queue.size, 4);
    await flush();
  }
  assert.equal(s.available, 0, "drained");
  assert.ok(Math.max(...s.fetches) <= 4 + 2, `batches: ${s.fetches}`);
  await s.queue.stop();
  await slots;
});

test("local queue hands back jobs older than ttl without running them, then refetches when a slot frees", async () => {
  const s = scripted({ concurrency: 1, size: 3 });
  s.add([1, 2, 3, 4].map((i) => fakeJob(i)));
  s.queue.start("continuous");
  await flush();
  const first = await s.queue.take();
  s.queue.started(); // the only slot is busy from here on
  assert.equal(first?.id, "1");
  assert.equal(s.queue.queued, 3);
  await s.clock.tick(999);
  assert.deepEqual(s.returned, []);
  await s.clock.tick(1);
  await flush();
  assert.deepEqual(s.returned.sort(), ["2", "3", "4"]);
  assert.equal(s.queue.queued, 0);
  assert.equal(s.queue.held, 1);
  // All slots still busy: the returned jobs are not fetched straight back.
  const fetchesBefore = s.fetches.length;
  await flush();
  assert.equal(s.fetches.length, fetchesBefore);
  s.queue.finished();
  s.queue.release(1);
  await flush();
  assert.equal(s.fetches.length, fetchesBefore + 1);
  assert.equal(s.queue.queued + (s.queue.held - s.queue.queued), s.queue.held);
  await s.queue.stop();
});

test("a notification inside the refetch delay is fetched when the delay ends, not at the next poll", async () => {
  const s = scripted({
    refetchDelay: { durationMs: 100, threshold: 0, maxAbortThreshold: 1_000_000 },
  });
  s.queue.start("continuous");
  await flush();
  assert.deepEqual(s.fetches, [8]); // found nothing: the delay starts
  assert.equal(s.queue.delaying, true);
  s.add([fakeJob(1)]);
  s.queue.nudge(1);
  await flush();
  assert.equal(s.fetches.length, 1, "no fetch during the delay");
  await s.clock.tick(150); // delay is 100 × (0.5 + 0.5) = 100 ms; the poll is 10 s away
  await flush();
  assert.equal(s.fetches.length, 2);
  assert.equal((await s.queue.take())?.id, "1");
  await s.queue.stop();
});

test("enough notifications end the refetch delay early", async () => {
  const s = scripted({ refetchDelay: { durationMs: 1000, threshold: 0, maxAbortThreshold: 4 } });
  s.queue.start("continuous");
  await flush();
  assert.equal(s.queue.delaying, true);
  s.add([fakeJob(1), fakeJob(2)]);
  s.queue.nudge(1); // abort threshold: 0.5 × 4 = 2
  await flush();
  assert.equal(s.fetches.length, 1);
  s.queue.nudge(1);
  await flush();
  assert.equal(s.queue.delaying, false);
  assert.equal(s.fetches.length, 2);
  await s.queue.stop();
});

test("stop hands back queued jobs and those of a fetch in flight", async () => {
  let release!: (jobs: FetchedJob[]) => void;
  const returned: string[] = [];
  let calls = 0;
  const queue = new LocalQueue({
    fetch: (count) => {
      calls++;
      if (calls === 1) return Promise.resolve([1, 2, 3, 4].map((i) => fakeJob(i)).slice(0, count));
      return new Promise((resolve) => (release = resolve));
    },
    handBack: (jobs) => {
      returned.push(...jobs.map((j) => j.id));
      return Promise.resolve();
    },
    concurrency: 1,
    pollInterval: 10_000,
    size: 8,
    ttl: 60_000,
    refetchDelay: undefined,
    clock: new FakeClock(0),
    logger: silentLogger,
    onOnceEnd: () => {},
  });
  queue.start("continuous");
  await flush();
  assert.equal(calls, 1);
  // 4 < 9 asked: drained for now; a nudge starts the second fetch, which hangs.
  queue.nudge(1);
  await flush();
  assert.equal(calls, 2);
  const stopped = queue.stop();
  await flush();
  assert.deepEqual(returned, ["1", "2", "3", "4"]);
  release([fakeJob(9)]);
  await stopped;
  assert.deepEqual(returned, ["1", "2", "3", "4", "9"]);
  assert.equal(queue.held, 0);
  assert.equal(await queue.take(), undefined);
});

test("a named queue never runs two jobs at once, even with a large local queue", async () => {
  await clear();
  const running = new Map<string, number>();
  let worst = 0;
  let done = 0;
  const task = defineTask({
    identifier: "serial",
    payload: z.object({ q: z.string() }),
    async run(p) {
      const n = (running.get(p.q) ?? 0) + 1;
      running.set(p.q, n);
      worst = Math.max(worst, n);
      await new Promise((r) => setTimeout(r, 2));
      running.set(p.q, n - 1);
      done++;
    },
  });
  for (let i = 0; i < 12; i++) {
    for (const q of ["a", "b", "c"]) await db.addJob("serial", { q }, { queueName: q });
  }
  const worker = await createWorker(
    options({ tasks: [task], concurrency: 8, localQueue: { size: 50 }, pollInterval: 100 }),
  );
  const run = worker.run();
  await waitFor("all 36 jobs", () => done === 36, 20_000);
  await worker.stop();
  await run;
  assert.equal(worst, 1);
  assert.equal((await db.jobs()).length, 0);
});

test("jobs held in the local queue past ttl go back to the database without using an attempt", async () => {
  await clear();
  let unblock!: () => void;
  const blocker = new Promise<void>((r) => (unblock = r));
  let started = 0;
  const task = defineTask({
    identifier: "slow",
    payload: z.object({ n: z.number() }),
    async run(p) {
      started++;
      if (p.n === 0) await blocker;
    },
  });
  await db.addJob("slow", { n: 0 }, { priority: -1 });
  for (let n = 1; n <= 4; n++) await db.addJob("slow", { n });
  const worker = await createWorker(
    options({ tasks: [task], concurrency: 1, localQueue: { size: 10, ttl: 300 } }),
  );
  const run = worker.run();
  await waitFor("the first job to start", () => started === 1);
  const held = async () =>
    (await db.jobs()).filter((j) => j.locked_by !== null && j.attempts === 1).length;
  await waitFor("the others to be held locally", async () => (await held()) === 5);
  await waitFor("ttl expiry to hand them back", async () => {
    const rows = await db.jobs();
    return rows.filter((j) => j.locked_by === null).length === 4;
  });
  for (const j of (await db.jobs()).filter((r) => r.locked_by === null)) {
    assert.equal(j.attempts, 0, `job ${j.id} kept its attempt`);
    assert.equal(j.last_error, null);
  }
  assert.equal(started, 1);
  unblock();
  await waitFor("all jobs", () => started === 5, 10_000);
  await waitFor("an empty table", async () => (await db.jobs()).length === 0);
  await worker.stop();
  await run;
});

test("shutdown hands back unstarted local-queue jobs without using an attempt", async () => {
  await clear();
  let unblock!: () => void;
  const blocker = new Promise<void>((r) => (unblock = r));
  let started = 0;
  const task = defineTask({
    identifier: "slow2",
    payload: z.object({ n: z.number() }),
    async run(p) {
      started++;
      if (p.n === 0) await blocker;
    },
  });
  const runAts = new Map<string, number>();
  await db.addJob("slow2", { n: 0 }, { priority: -1 });
  for (let n = 1; n <= 5; n++) await db.addJob("slow2", { n });
  for (const j of await db.jobs()) runAts.set(j.id, j.run_at.getTime());
  const worker = await createWorker(
    options({ tasks: [task], concurrency: 1, localQueue: { size: 10 }, gracePeriod: 5000 }),
  );
  const run = worker.run();
  await waitFor("the first job to start", () => started === 1);
  await waitFor(
    "the others to be held",
    async () => (await db.jobs()).every((j) => j.locked_by !== null),
  );
  const stopping = worker.stop();
  setTimeout(unblock, 50);
  await stopping;
  await run;
  const rows = await db.jobs();
  assert.equal(started, 1);
  assert.equal(rows.length, 5);
  for (const j of rows) {
    assert.equal(j.locked_by, null);
    assert.equal(j.attempts, 0);
    assert.equal(j.run_at.getTime(), runAts.get(j.id));
  }
});

test("no stall: a job added inside a refetch delay starts long before the poll interval", async () => {
  await clear();
  let startedAt = 0;
  const task = defineTask({
    identifier: "quick",
    payload: z.object({}),
    run: () => void (startedAt = Date.now()),
  });
  const worker = await createWorker(options({
    tasks: [task],
    concurrency: 2,
    pollInterval: 10_000,
    // Every empty fetch starts a 400–1200 ms delay; notifications never abort it.
    localQueue: { size: 10, refetchDelay: { durationMs: 800, maxAbortThreshold: Infinity } },
  }));
  const run = worker.run();
  // Let the first (empty) fetch happen, so the refetch delay is running.
  await new Promise((r) => setTimeout(r, 200));
  const addedAt = Date.now();
  await db.addJob("quick", {});
  await waitFor("the job to start", () => startedAt > 0, 9000);
  const waited = startedAt - addedAt;
  await worker.stop();
  await run;
  // graphile-worker 0.18 would wait for the 10 s poll here.
  assert.ok(waited < 2500, `job started after ${waited} ms`);
});

test("local queue: teardown", async () => {
  await db.close();
});
