import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import type { Queryable, QueryResult } from "../src/driver/types.ts";
import { Completer } from "../src/worker/completer.ts";
import { systemClock } from "../src/runtime/clock.ts";
import type { Clock } from "../src/runtime/types.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";
import { silentLogger } from "../src/logger.ts";

let db: TestDb;
const WORKER = "spool_worker_batch_test";

/** A statement error as the database reports it (SQLSTATE set). */
function statementError(): Error {
  return Object.assign(new Error("simulated: batch statement rejected"), { code: "22023" });
}

/** Wraps the test pool; `reject(text, params)` decides which statements fail. */
function queryable(reject: (text: string, params: readonly unknown[]) => boolean) {
  const calls: Array<{ text: string; ids: number }> = [];
  const q: Queryable = {
    async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const ids = Array.isArray(params[1]) ? params[1].length : 1;
      calls.push({ text, ids });
      if (reject(text, params)) throw statementError();
      const rows = await db.sql.unsafe(text, params as never[]);
      return { rows: rows as unknown as R[], rowCount: rows.length };
    },
  };
  return { q, calls };
}

/** Add `n` jobs locked by WORKER (as if fetched); returns their ids. */
async function lockedJobs(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await db.addJob("batch_test", { i }));
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set locked_by = $1, locked_at = now(), attempts = 1`,
    [WORKER],
  );
  return ids;
}

function completer(
  q: Queryable,
  extra: { completeJobBatchDelay?: number; clock?: Clock } = {},
): Completer {
  return new Completer({
    db: q,
    schema: db.schema,
    workerId: WORKER,
    logger: silentLogger,
    clock: systemClock,
    localClock: undefined,
    ...extra,
  });
}

test("batched completion: setup", async () => {
  db = await setupDb("throughput_batch");
});

test("completions handed in together are written in one round trip (batch delay 0)", async () => {
  const ids = await lockedJobs(20);
  const { q, calls } = queryable(() => false);
  const c = completer(q, { completeJobBatchDelay: 0 });
  await Promise.all(ids.map((id) => c.complete(id)));
  await c.flush();
  assert.equal(calls.length, 1);
  assert.equal(calls[0].ids, 20);
  assert.equal((await db.jobs()).length, 0);
});

test("without a delay the first completion goes at once and the rest share the next write", async () => {
  const ids = await lockedJobs(10);
  const { q, calls } = queryable(() => false);
  const c = completer(q);
  await Promise.all(ids.map((id) => c.complete(id)));
  assert.equal(calls.length, 2);
  assert.deepEqual(calls.map((x) => x.ids), [1, 9]);
  assert.equal((await db.jobs()).length, 0);
});

test("a rejected batch statement falls back to one-by-one writes and loses nothing", async () => {
  const ids = await lockedJobs(12);
  // Every statement completing more than one job fails; single ones succeed.
  const { q, calls } = queryable((_text, params) =>
    Array.isArray(params[1]) && params[1].length > 1
  );
  const c = completer(q, { completeJobBatchDelay: 0 });
  await Promise.all(ids.map((id) => c.complete(id)));
  await c.flush();
  assert.equal(calls[0].ids, 12, "the batch was tried first");
  assert.equal(calls.filter((x) => x.ids === 1).length, 12);
  assert.equal((await db.jobs()).length, 0);
});

test("when one job cannot be written alone, the others still land and it is retried", async () => {
  const ids = await lockedJobs(5);
  const bad = ids[2];
  let badFailures = 0;
  const { q } = queryable((_text, params) => {
    const list = params[1] as string[];
    if (list.length > 1) return true;
    if (list[0] === bad && badFailures < 1) {
      badFailures++;
      return true;
    }
    return false;
  });
  const c = completer(q, { completeJobBatchDelay: 0 });
  await Promise.all(ids.map((id) => c.complete(id)));
  await c.flush();
  assert.equal(badFailures, 1);
  assert.equal((await db.jobs()).length, 0, "the retry wrote the last one");
});

test("failures are batched and fall back one by one too", async () => {
  const ids = await lockedJobs(6);
  const { q, calls } = queryable((text, params) => {
    if (!text.includes("json_array_elements")) return false;
    return (JSON.parse(params[1] as string) as unknown[]).length > 1;
  });
  const c = new Completer({
    db: q,
    schema: db.schema,
    workerId: WORKER,
    logger: silentLogger,
    clock: systemClock,
    localClock: undefined,
    failJobBatchDelay: 0,
  });
  const rows = await Promise.all(ids.map((id) => c.fail({ id, message: `boom ${id}` })));
  assert.equal(calls.length, 7); // one batch + six single writes
  for (const [i, row] of rows.entries()) {
    assert.ok(row, `job ${ids[i]} got its row back`);
    assert.equal(row.id, ids[i]);
  }
  const jobs = await db.jobs();
  assert.equal(jobs.length, 6);
  for (const j of jobs) {
    assert.equal(j.locked_by, null);
    assert.equal(j.last_error, `boom ${j.id}`);
  }
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
});

test("flush waits for delayed completions (shutdown writes everything)", async () => {
  const ids = await lockedJobs(8);
  const { q, calls } = queryable(() => false);
  const c = completer(q, { completeJobBatchDelay: 200 });
  const pending = ids.map((id) => c.complete(id));
  await c.flush();
  assert.equal(calls.length, 1);
  assert.equal((await db.jobs()).length, 0);
  await Promise.all(pending);
});

test("batch delay 0 gathers completions handed in together without a timer", async () => {
  const ids = await lockedJobs(6);
  const { q, calls } = queryable(() => false);
  const clock = new FakeClock(); // never advanced: a timer would never fire
  const c = completer(q, { completeJobBatchDelay: 0, clock });
  await Promise.all(ids.map((id) => c.complete(id)));
  assert.equal(clock.pendingTimers, 0);
  assert.deepEqual(calls.map((x) => x.ids), [6]);
  assert.equal((await db.jobs()).length, 0);
});

test("a batch delay counts from the oldest completion: what gathered during a long write goes at once", async () => {
  const ids = await lockedJobs(4);
  const { q: inner, calls } = queryable(() => false);
  let release!: () => void;
  const firstWrite = new Promise<void>((r) => (release = r));
  let writes = 0;
  const q: Queryable = {
    async query<R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      if (writes++ === 0) await firstWrite; // the first write stays in flight until released
      return await inner.query<R>(text, params);
    },
  };
  const clock = new FakeClock();
  const c = completer(q, { completeJobBatchDelay: 1000, clock });
  const first = c.complete(ids[0]);
  await clock.tick(999);
  assert.equal(calls.length, 0, "the first completion waits for the delay");
  await clock.tick(1);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(writes, 1, "its write started after the delay");
  const rest = ids.slice(1).map((id) => c.complete(id)); // arrive while the write is in flight
  await clock.tick(1000); // the write takes longer than the delay
  release();
  await Promise.all([first, ...rest]);
  assert.deepEqual(calls.map((x) => x.ids), [1, 3], "the gathered batch went out with no new wait");
  assert.equal((await db.jobs()).length, 0);
});

test("batched completion: teardown", async () => {
  await db.close();
});
