/** Batch tasks on a real worker: per-item results, retry payloads, bad stored payloads. */
import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import type { Worker, WorkerOptions } from "../src/worker/types.ts";
import { defineBatchTask } from "../src/task/define_batch_task.ts";
import { BatchResult, type BatchRunResult } from "../src/task/batch_result.ts";
import { settleBatch } from "../src/worker/batch_run.ts";
import { silentLogger } from "../src/logger.ts";

let db: TestDb;
let worker: Worker;

const Item = z.object({ n: z.number().int(), tag: z.string() });
type Item = z.output<typeof Item>;

/** What the next run returns, per call; `seen` records the items each run got. */
let behaviour: (items: Item[]) => BatchRunResult | Promise<BatchRunResult> = () => undefined;
const seen: Item[][] = [];

const batch = defineBatchTask({
  identifier: "batch_results",
  // The transform proves retry payloads keep the ORIGINAL stored values.
  item: Item.transform((i) => ({ ...i, tag: i.tag.toUpperCase() })),
  run(items) {
    seen.push(items);
    return behaviour(items);
  },
});

function options(): WorkerOptions {
  return {
    database: databaseUrl(),
    maxPoolSize: 2,
    schema: db.schema,
    logger: silentLogger,
    noHandleSignals: true,
    tasks: [batch],
  };
}

const items = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ n: i, tag: `t${i}` }));

async function reset(): Promise<void> {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  seen.length = 0;
  behaviour = () => undefined;
}

async function makeDue(): Promise<void> {
  await db.sql.unsafe(`update ${db.s}._private_jobs set run_at = now() - interval '1 second'`);
}

test("batch results: setup", async () => {
  db = await setupDb("batch_results");
  worker = await createWorker(options());
});

test("run gets the parsed items in order; returning nothing completes the job", async () => {
  await reset();
  await db.addJob("batch_results", items(3));
  await worker.runOnce();
  assert.deepEqual(seen, [[{ n: 0, tag: "T0" }, { n: 1, tag: "T1" }, { n: 2, tag: "T2" }]]);
  assert.equal((await db.jobs()).length, 0);
});

test("an all-ok result list completes the job; so does a single ok result", async () => {
  await reset();
  behaviour = (its) => its.map(() => BatchResult.ok());
  await db.addJob("batch_results", items(4));
  await worker.runOnce();
  assert.equal(seen.length, 1);
  assert.equal((await db.jobs()).length, 0);
  behaviour = () => BatchResult.ok();
  await db.addJob("batch_results", items(2));
  await worker.runOnce();
  assert.equal(seen.length, 2);
  assert.equal((await db.jobs()).length, 0);
});

test("3 of 10 fail → retry holds those 3; then 1 fails → retry holds 1; then completes", async () => {
  await reset();
  const stored = items(10);
  await db.addJob("batch_results", stored);
  const failing = new Set([2, 5, 7]);
  behaviour = (its) =>
    its.map((it) =>
      failing.has(it.n) ? BatchResult.fail(new Error(`boom ${it.n}`)) : BatchResult.ok()
    );
  await worker.runOnce();
  let [job] = await db.jobs();
  assert.deepEqual(job.payload, [stored[2], stored[5], stored[7]]); // original values (lower-case tags)
  assert.equal(job.attempts, 1);
  assert.equal(job.last_error, "3 of 10 items failed: [2] boom 2; [5] boom 5; [7] boom 7");
  assert.equal(job.locked_by, null);
  assert.ok(job.run_at.getTime() > Date.now(), "the retry waits for its backoff");

  await makeDue();
  behaviour = (its) =>
    its.map((it) => it.n === 5 ? BatchResult.fail("still down") : BatchResult.ok());
  await worker.runOnce();
  assert.deepEqual(seen[1].map((i) => i.n), [2, 5, 7]);
  [job] = await db.jobs();
  assert.deepEqual(job.payload, [stored[5]]);
  assert.equal(job.attempts, 2);
  assert.equal(job.last_error, "1 of 3 items failed: [1] still down");

  await makeDue();
  behaviour = (its) => its.map(() => BatchResult.ok());
  await worker.runOnce();
  assert.deepEqual(seen[2], [{ n: 5, tag: "T5" }]);
  assert.equal((await db.jobs()).length, 0);
});

test("a result list of the wrong length fails the job and keeps every item", async () => {
  await reset();
  const stored = items(5);
  await db.addJob("batch_results", stored);
  behaviour = () => [BatchResult.ok(), BatchResult.fail("x")];
  await worker.runOnce();
  const [job] = await db.jobs();
  assert.deepEqual(job.payload, stored);
  assert.equal(job.attempts, 1);
  assert.match(job.last_error!, /returned 2 result\(s\) for 5 item\(s\)/);
  assert.match(job.last_error!, /Retrying all 5/);
});

test("values that are not BatchResults fail the job and keep every item", async () => {
  await reset();
  const stored = items(3);
  await db.addJob("batch_results", stored);
  behaviour = () => [BatchResult.ok(), true, "ok"] as unknown as BatchResult[];
  await worker.runOnce();
  const [job] = await db.jobs();
  assert.deepEqual(job.payload, stored);
  assert.match(job.last_error!, /not BatchResults at \[1\]; \[2\]/);
});

test("a throw fails the whole job and keeps the original payload", async () => {
  await reset();
  const stored = items(4);
  await db.addJob("batch_results", stored);
  behaviour = () => {
    throw new Error("smtp unreachable");
  };
  await worker.runOnce();
  let [job] = await db.jobs();
  assert.deepEqual(job.payload, stored);
  assert.equal(job.last_error, "smtp unreachable");
  // An async rejection and a single failed result behave the same.
  await makeDue();
  behaviour = () => Promise.reject(new Error("async down"));
  await worker.runOnce();
  [job] = await db.jobs();
  assert.deepEqual(job.payload, stored);
  assert.equal(job.last_error, "async down");
  await makeDue();
  behaviour = () => BatchResult.fail("whole batch rejected");
  await worker.runOnce();
  [job] = await db.jobs();
  assert.deepEqual(job.payload, stored);
  assert.equal(job.attempts, 3);
  assert.equal(job.last_error, "whole batch rejected");
});

test("a non-array payload stored through SQL add_job fails with a reason, payload kept", async () => {
  await reset();
  await db.addJob("batch_results", { n: 1, tag: "a" });
  await worker.runOnce();
  const [job] = await db.jobs();
  assert.equal(seen.length, 0, "run is not called");
  assert.deepEqual(job.payload, { n: 1, tag: "a" });
  assert.equal(job.attempts, 1);
  assert.equal(
    job.last_error,
    'Batch task "batch_results" needs a JSON array of items as its payload, got an object',
  );
});

test("an empty array payload fails with a reason, payload kept", async () => {
  await reset();
  await db.addJob("batch_results", []);
  await worker.runOnce();
  const [job] = await db.jobs();
  assert.equal(seen.length, 0);
  assert.deepEqual(job.payload, []);
  assert.match(job.last_error!, /got an empty array: a batch job needs at least one item/);
});

test("items that fail the item schema: the reason names each index and zod's message", async () => {
  await reset();
  const stored = [{ n: 0, tag: "a" }, { n: "one", tag: "b" }, { n: 2, tag: "c" }];
  await db.addJob("batch_results", stored);
  await worker.runOnce();
  let [job] = await db.jobs();
  assert.equal(seen.length, 0);
  assert.deepEqual(job.payload, stored);
  assert.match(
    job.last_error!,
    /^Batch task "batch_results": item did not match the item schema: \[1\] n: /,
  );
  assert.match(job.last_error!, /expected number, received string/);

  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  await db.addJob("batch_results", [{ n: 0 }, { n: 1, tag: "b" }, { n: 1.5, tag: "c" }]);
  await worker.runOnce();
  [job] = await db.jobs();
  assert.match(
    job.last_error!,
    /2 of 3 items did not match the item schema: \[0\] tag: .*; \[2\] n: /,
  );
});

test("a partial failure on the last attempt keeps the failed items on the dead job", async () => {
  await reset();
  const stored = items(3);
  await db.addJob("batch_results", stored, { maxAttempts: 1 });
  behaviour = (its) => its.map((it) => it.n === 1 ? BatchResult.fail("nope") : BatchResult.ok());
  await worker.runOnce();
  const [job] = await db.jobs();
  assert.equal(job.attempts, 1);
  assert.equal(job.max_attempts, 1);
  assert.deepEqual(job.payload, [stored[1]]);
  assert.equal(job.last_error, "1 of 3 items failed: [1] nope");
});

test("settleBatch: message lists at most 20 items; error texts are trimmed", () => {
  const raw = Array.from({ length: 30 }, (_, i) => i);
  const out = settleBatch(
    "t",
    raw,
    raw.map((i) => BatchResult.fail(i === 0 ? "x".repeat(500) : `e${i}`)),
  );
  assert.deepEqual(out.retryPayload, raw);
  assert.match(out.failure!, /^30 of 30 items failed: \[0\] x{200}…; \[1\] e1;/);
  assert.match(out.failure!, /\[19\] e19; … and 10 more$/);
  assert.deepEqual(settleBatch("t", [1], [BatchResult.ok()]), {});
  assert.deepEqual(settleBatch("t", [1], undefined), {});
  assert.equal(settleBatch("t", [1, 2], []).retryPayload, undefined);
});

test("BatchResult helpers", async () => {
  assert.deepEqual(BatchResult.ok(), { ok: true });
  const err = new Error("e");
  assert.deepEqual(BatchResult.fail(err), { ok: false, error: err });
  assert.deepEqual(BatchResult.fail({ code: 5 }), { ok: false, error: '{"code":5}' });
  const settled = await Promise.allSettled([Promise.resolve(1), Promise.reject(err)]);
  assert.deepEqual(BatchResult.fromSettled(settled), [{ ok: true }, { ok: false, error: err }]);
  assert.equal(BatchResult.is({ ok: false, error: "x" }), true);
  assert.equal(BatchResult.is({ ok: "yes" }), false);
  assert.equal(BatchResult.is(null), false);
});

test("batch results: teardown", async () => {
  await worker.stop();
  await db.close();
});
