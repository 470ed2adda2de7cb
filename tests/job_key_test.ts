/**
 * job_key semantics, checked against graphile-worker's behaviour (graphile.md A.3):
 * replace (debounce), preserve_run_at (throttle), unsafe_dedupe, array payload
 * merging, detaching a locked or failed job's key, and removeJob.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { adminSql, databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";
import { createWorkerUtils } from "../src/utils/worker_utils.ts";
import { ValidationError } from "../src/errors.ts";

const schema = uniqueSchema("job_key");
const sql = adminSql(3);
const driver = postgresJs(databaseUrl(), { max: 3 });
const utils = createWorkerUtils({ driver, schema });
const S = `"${schema}"`;
const HOUR = 3600_000;

const ready = utils.migrate();

async function jobCount(): Promise<number> {
  const [{ n }] = await sql.unsafe(`select count(*)::int as n from ${S}._private_jobs`);
  return n as number;
}

test("replace (default): same row, revision 0 then 1, payload and run_at replaced", async () => {
  await ready;
  const t1 = new Date(Date.now() + HOUR);
  const t2 = new Date(Date.now() + 2 * HOUR);
  const a = await utils.addRawJob("debounce", { v: 1 }, { jobKey: "r1", runAt: t1, priority: 3 });
  const b = await utils.addRawJob("debounce", { v: 2 }, { jobKey: "r1", runAt: t2 });
  assert.equal(a.revision, 0);
  assert.equal(b.revision, 1);
  assert.equal(b.id, a.id);
  assert.deepEqual(b.payload, { v: 2 });
  assert.equal(b.runAt.getTime(), t2.getTime());
  assert.equal(b.priority, 0, "unset priority goes back to the default");
  assert.equal(b.key, "r1");
  const stored = await utils.getJobByKey("r1");
  assert.deepEqual(stored?.payload, { v: 2 });
  assert.equal(stored?.revision, 1);
});

test("replace moves the job to the new task identifier and queue", async () => {
  await ready;
  const a = await utils.addRawJob("task_a", {}, { jobKey: "r2", queueName: "qa" });
  const b = await utils.addRawJob("task_b", {}, { jobKey: "r2", queueName: "qb" });
  assert.equal(b.id, a.id);
  assert.equal(b.taskIdentifier, "task_b");
  assert.equal(b.queueName, "qb");
  const stored = await utils.getJob(a.id);
  assert.equal(stored?.taskIdentifier, "task_b");
  assert.equal(stored?.queueName, "qb");
});

test("preserve_run_at keeps run_at while attempts = 0, replaces it after a failure", async () => {
  await ready;
  const t1 = new Date(Date.now() + HOUR);
  const t2 = new Date(Date.now() + 2 * HOUR);
  const a = await utils.addRawJob("throttle", { v: 1 }, {
    jobKey: "p1",
    jobKeyMode: "preserve_run_at",
    runAt: t1,
  });
  const b = await utils.addRawJob("throttle", { v: 2 }, {
    jobKey: "p1",
    jobKeyMode: "preserve_run_at",
    runAt: t2,
  });
  assert.equal(b.id, a.id);
  assert.equal(b.revision, 1);
  assert.equal(b.runAt.getTime(), t1.getTime(), "run_at kept");
  assert.deepEqual(b.payload, { v: 2 }, "payload replaced");
  // After one failed attempt the new run_at wins.
  await sql.unsafe(`update ${S}._private_jobs set attempts = 1 where id = $1`, [a.id]);
  const c = await utils.addRawJob("throttle", { v: 3 }, {
    jobKey: "p1",
    jobKeyMode: "preserve_run_at",
    runAt: t2,
  });
  assert.equal(c.runAt.getTime(), t2.getTime());
  assert.equal(c.attempts, 0, "attempts reset");
});

test("unsafe_dedupe leaves the existing row unchanged except revision", async () => {
  await ready;
  const t1 = new Date(Date.now() + HOUR);
  const a = await utils.addRawJob("dedupe", { v: 1 }, {
    jobKey: "u1",
    jobKeyMode: "unsafe_dedupe",
    runAt: t1,
    priority: 5,
  });
  const b = await utils.addRawJob("dedupe_other", { v: 2 }, {
    jobKey: "u1",
    jobKeyMode: "unsafe_dedupe",
    runAt: new Date(Date.now() + 5 * HOUR),
    priority: 9,
    queueName: "uq",
  });
  assert.equal(a.revision, 0);
  assert.equal(b.id, a.id);
  assert.equal(b.revision, 1);
  assert.deepEqual(b.payload, { v: 1 });
  assert.equal(b.runAt.getTime(), t1.getTime());
  assert.equal(b.priority, 5);
  assert.equal(b.taskIdentifier, "dedupe", "the existing row's task is reported");
  assert.equal(b.queueName, null);
  // Even a locked job is only touched in its revision; no new row appears.
  await sql.unsafe(
    `update ${S}._private_jobs set locked_at = now(), locked_by = 'w-x' where id = $1`,
    [a.id],
  );
  const before = await jobCount();
  const c = await utils.addRawJob("dedupe", { v: 3 }, {
    jobKey: "u1",
    jobKeyMode: "unsafe_dedupe",
  });
  assert.equal(c.id, a.id);
  assert.equal(c.revision, 2);
  assert.equal(c.lockedBy, "w-x");
  assert.deepEqual(c.payload, { v: 1 });
  assert.equal(await jobCount(), before);
});

test("array payloads concatenate on the same key (single and bulk adds)", async () => {
  await ready;
  await utils.addRawJob("batchy", [1], { jobKey: "arr" });
  const b = await utils.addRawJob("batchy", [2], { jobKey: "arr" });
  assert.deepEqual(b.payload, [1, 2]);
  const [c] = await utils.addRawJobs([{
    identifier: "batchy",
    payload: [3, 4],
    options: { jobKey: "arr" },
  }]);
  assert.deepEqual(c.payload, [1, 2, 3, 4]);
  assert.equal(c.revision, 2);
  // A non-array payload replaces instead.
  const d = await utils.addRawJob("batchy", { x: 1 }, { jobKey: "arr" });
  assert.deepEqual(d.payload, { x: 1 });
});

test("a locked job's key is detached (key null, attempts = max) and a new job inserted", async () => {
  await ready;
  const a = await utils.addRawJob("locky", { v: 1 }, { jobKey: "l1", maxAttempts: 7 });
  await sql.unsafe(
    `update ${S}._private_jobs set locked_at = now(), locked_by = 'worker-1', attempts = 1
     where id = $1`,
    [a.id],
  );
  const b = await utils.addRawJob("locky", { v: 2 }, { jobKey: "l1" });
  assert.notEqual(b.id, a.id);
  assert.equal(b.key, "l1");
  assert.equal(b.revision, 0);
  assert.deepEqual(b.payload, { v: 2 });
  const old = await utils.getJob(a.id);
  assert.equal(old?.key, null);
  assert.equal(old?.attempts, 7);
  assert.equal(old?.maxAttempts, 7);
  assert.equal(old?.lockedBy, "worker-1", "still held by the worker running it");
  assert.equal((await utils.getJobByKey("l1"))?.id, b.id);
});

test("a permanently failed job's key is detached too", async () => {
  await ready;
  const a = await utils.addRawJob("failer", {}, { jobKey: "f1", maxAttempts: 2 });
  await sql.unsafe(`update ${S}._private_jobs set attempts = 2 where id = $1`, [a.id]);
  const b = await utils.addRawJob("failer", {}, { jobKey: "f1" });
  assert.notEqual(b.id, a.id);
  assert.equal((await utils.getJob(a.id))?.key, null);
});

test("preserve_run_at and replace mixed in one bulk add", async () => {
  await ready;
  const t1 = new Date(Date.now() + HOUR);
  const t2 = new Date(Date.now() + 3 * HOUR);
  await utils.addRawJobs([
    { identifier: "mix", payload: { n: 1 }, options: { jobKey: "m-pres", runAt: t1 } },
    { identifier: "mix", payload: { n: 1 }, options: { jobKey: "m-repl", runAt: t1 } },
  ]);
  const jobs = await utils.addRawJobs([
    { identifier: "mix", payload: { n: 2 }, options: { jobKey: "m-repl", runAt: t2 } },
    { identifier: "mix_new", payload: { n: 3 } },
    {
      identifier: "mix",
      payload: { n: 2 },
      options: { jobKey: "m-pres", runAt: t2, jobKeyMode: "preserve_run_at" },
    },
  ]);
  assert.equal(jobs.length, 3);
  assert.equal(jobs[0].key, "m-repl");
  assert.equal(jobs[0].runAt.getTime(), t2.getTime());
  assert.equal(jobs[1].key, null);
  assert.equal(jobs[1].taskIdentifier, "mix_new");
  assert.deepEqual(jobs[1].payload, { n: 3 });
  assert.equal(jobs[2].key, "m-pres");
  assert.equal(jobs[2].runAt.getTime(), t1.getTime(), "preserved in the same statement");
  assert.deepEqual(jobs[2].payload, { n: 2 });
  assert.equal(jobs[2].revision, 1);
});

test("bulk adds reject unsafe_dedupe and a key used twice, inserting nothing", async () => {
  await ready;
  const before = await jobCount();
  await assert.rejects(
    utils.addRawJobs([
      { identifier: "x", payload: {} },
      { identifier: "x", payload: {}, options: { jobKey: "k", jobKeyMode: "unsafe_dedupe" } },
    ]),
    (e: unknown) => e instanceof ValidationError && e.field === "jobs[1].options.jobKeyMode",
  );
  await assert.rejects(
    utils.addRawJobs([
      { identifier: "x", payload: {}, options: { jobKey: "dup" } },
      { identifier: "x", payload: {} },
      { identifier: "x", payload: {}, options: { jobKey: "dup" } },
    ]),
    (e: unknown) =>
      e instanceof ValidationError && e.field === "jobs[2].options.jobKey" &&
      e.message.includes("jobs[0]"),
  );
  assert.equal(await jobCount(), before);
});

test("removeJob deletes an unlocked job and detaches a locked one", async () => {
  await ready;
  const a = await utils.addRawJob("removable", {}, { jobKey: "rm1" });
  const removed = await utils.removeJob("rm1");
  assert.equal(removed?.id, a.id);
  assert.equal(await utils.getJob(a.id), null, "deleted");

  const b = await utils.addRawJob("removable", {}, { jobKey: "rm2" });
  await sql.unsafe(
    `update ${S}._private_jobs set locked_at = now(), locked_by = 'w-rm' where id = $1`,
    [b.id],
  );
  const detached = await utils.removeJob("rm2");
  assert.equal(detached?.id, b.id);
  assert.equal(detached?.key, null);
  assert.equal(detached?.attempts, detached?.maxAttempts);
  const still = await utils.getJob(b.id);
  assert.ok(still, "a locked job stays until its worker finishes");
  assert.equal(still.key, null);

  assert.equal(await utils.removeJob("no-such-key"), null);
});

test("teardown", async () => {
  await ready.catch(() => {});
  await utils.release();
  await driver.close();
  await sql.end();
  await dropSchema(schema);
});
