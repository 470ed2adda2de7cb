/** WorkerUtils against a real PostgreSQL: every method, transactions, NOTIFY, release. */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { adminSql, databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";
import type { Driver, Queryable, QueryResult } from "../src/driver/types.ts";
import { createWorkerUtils } from "../src/utils/worker_utils.ts";
import { defineTask } from "../src/task/define_task.ts";
import { SpoolError, ValidationError } from "../src/errors.ts";
import { z } from "zod";

const schema = uniqueSchema("utils");
const sql = adminSql(4);
const driver = postgresJs(databaseUrl(), { max: 4 });
const S = `"${schema}"`;
const HOUR = 3600_000;

/** A driver that counts the statements sent through it. */
function counting(inner: Driver): Driver & { count: number } {
  const wrapped = Object.create(inner) as Driver & { count: number };
  wrapped.count = 0;
  wrapped.query = <R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> => {
    wrapped.count++;
    return inner.query<R>(text, params);
  };
  return wrapped;
}

const counted = counting(driver);
const utils = createWorkerUtils({ driver: counted, schema });

const ready = utils.migrate();

async function lock(id: string, by: string): Promise<void> {
  await sql.unsafe(
    `update ${S}._private_jobs set locked_at = now(), locked_by = $2 where id = $1`,
    [id, by],
  );
}

const greet = defineTask({
  identifier: "greet",
  payload: z.object({ name: z.string() }),
  run() {},
});

test("createWorkerUtils does no I/O until a method is called", async () => {
  const lazy = createWorkerUtils({ database: "postgres://nobody@127.0.0.1:1/none", schema });
  assert.equal(lazy.schema, schema);
  assert.throws(() => lazy.driver, SpoolError, "driver is not resolved before first use");
  await lazy.release();
  await assert.rejects(lazy.addRawJob("x"), (e: unknown) => e instanceof SpoolError);
  assert.throws(() => createWorkerUtils({ schema: "" }), ValidationError);
  assert.equal(utils.driver, counted, "a passed driver is available at once");
});

test("addRawJob stores every option and getJob/getJobByKey read it back", async () => {
  await ready;
  const runAt = new Date(Date.now() + HOUR);
  const job = await utils.addRawJob("fresh_task", { a: [1, "two", null] }, {
    queueName: "fresh_queue",
    runAt,
    priority: -7,
    maxAttempts: 3,
    jobKey: "k-full",
    flags: ["slow", "gpu"],
  });
  assert.match(job.id, /^[0-9]+$/);
  assert.equal(job.taskIdentifier, "fresh_task", "new identifier resolved in the same call");
  assert.equal(job.queueName, "fresh_queue");
  assert.deepEqual(job.payload, { a: [1, "two", null] });
  assert.equal(job.runAt.getTime(), runAt.getTime());
  assert.equal(job.priority, -7);
  assert.equal(job.maxAttempts, 3);
  assert.equal(job.attempts, 0);
  assert.equal(job.key, "k-full");
  assert.deepEqual(job.flags.sort(), ["gpu", "slow"]);
  assert.equal(job.lockedAt, null);
  assert.ok(job.createdAt instanceof Date);
  assert.deepEqual(await utils.getJob(job.id), job);
  assert.deepEqual(await utils.getJobByKey("k-full"), job);
  assert.equal(await utils.getJob("999999999"), null);
  assert.equal(await utils.getJobByKey("nope"), null);
  const [{ flags }] = await sql.unsafe(`select flags from ${S}._private_jobs where id = $1`, [
    job.id,
  ]);
  assert.deepEqual(flags, { slow: true, gpu: true });
});

test("addRawJob defaults: payload {}, no queue, priority 0, 25 attempts", async () => {
  await ready;
  const job = await utils.addRawJob("defaults");
  assert.deepEqual(job.payload, {});
  assert.equal(job.queueName, null);
  assert.equal(job.priority, 0);
  assert.equal(job.maxAttempts, 25);
  assert.deepEqual(job.flags, []);
  assert.ok(Math.abs(job.runAt.getTime() - Date.now()) < 60_000);
});

test("addJob checks the typed payload and stores it", async () => {
  await ready;
  const job = await utils.addJob(greet, { name: "Ada" }, { priority: 2 });
  assert.equal(job.taskIdentifier, "greet");
  assert.deepEqual(job.payload, { name: "Ada" });
  await assert.rejects(
    utils.addJob(greet, { name: 1 } as unknown as { name: string }),
    (e: unknown) => e instanceof ValidationError && e.code === "INVALID_PAYLOAD",
  );
});

test("bulk adds: one round trip, results in input order, new identifiers and queues named", async () => {
  await ready;
  const before = counted.count;
  const jobs = await utils.addRawJobs([
    { identifier: "bulk_new_a", payload: { i: 0 }, options: { queueName: "bulk_q1" } },
    { identifier: "bulk_new_b", payload: { i: 1 } },
    {
      identifier: "bulk_new_c",
      payload: { i: 2 },
      options: { queueName: "bulk_q2", jobKey: "bk" },
    },
    { identifier: "bulk_new_a", payload: { i: 3 }, options: { priority: 4 } },
  ]);
  assert.equal(counted.count - before, 1, "one statement");
  assert.deepEqual(jobs.map((j) => j.payload), [{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
  assert.deepEqual(jobs.map((j) => j.taskIdentifier), [
    "bulk_new_a",
    "bulk_new_b",
    "bulk_new_c",
    "bulk_new_a",
  ]);
  assert.deepEqual(jobs.map((j) => j.queueName), ["bulk_q1", null, "bulk_q2", null]);
  assert.equal(jobs[3].priority, 4);
  for (const j of jobs) assert.deepEqual(await utils.getJob(j.id), j);

  const typedBefore = counted.count;
  const typed = await utils.addJobs(greet, [
    { payload: { name: "a" } },
    { payload: { name: "b" }, options: { jobKey: "g-b", jobKeyMode: "preserve_run_at" } },
  ]);
  assert.equal(counted.count - typedBefore, 1, "mixed modes still one statement");
  assert.deepEqual(typed.map((j) => j.payload), [{ name: "a" }, { name: "b" }]);
  assert.deepEqual(await utils.addRawJobs([]), []);
});

test("bulk adds pair rows with their jobs even when rows come back reordered", async () => {
  await ready;
  // Alike jobs but for brand-new identifiers and queues: names are looked up.
  const names = ["twin_z", "twin_a", "twin_m", "twin_b", "twin_y", "twin_c", "twin_x", "twin_d"];
  const twins = await utils.addRawJobs(
    names.map((n) => ({
      identifier: n,
      payload: { same: true },
      options: { queueName: `q_${n}` },
    })),
  );
  assert.deepEqual(
    twins.map((j) => [j.taskIdentifier, j.queueName]),
    names.map((n) => [n, `q_${n}`]),
  );
  for (const j of twins) assert.deepEqual(await utils.getJob(j.id), j);
  // A larger mixed batch: each job's row carries its own payload and names.
  const specs = Array.from({ length: 60 }, (_, i) => ({
    identifier: `many_${i % 7}`,
    payload: { i },
    options: i % 3 === 0 ? { queueName: `many_q${i % 5}`, priority: i % 4 } : { priority: i % 4 },
  }));
  const jobs = await utils.addRawJobs(specs);
  jobs.forEach((j, i) => {
    assert.deepEqual(j.payload, { i });
    assert.equal(j.taskIdentifier, specs[i].identifier);
    assert.equal(j.queueName, specs[i].options.queueName ?? null);
    assert.equal(j.priority, specs[i].options.priority);
  });
  assert.equal(new Set(jobs.map((j) => j.id)).size, 60);
});

test("completeJobs deletes unlocked jobs and skips locked ones", async () => {
  await ready;
  const a = await utils.addRawJob("complete_me");
  const b = await utils.addRawJob("complete_me");
  await lock(b.id, "w-complete");
  const done = await utils.completeJobs([a.id, b.id]);
  assert.deepEqual(done.map((j) => j.id), [a.id]);
  assert.equal(done[0].taskIdentifier, "complete_me");
  assert.equal(await utils.getJob(a.id), null);
  assert.ok(await utils.getJob(b.id));
  assert.deepEqual(await utils.completeJobs([]), []);
});

test("permanentlyFailJobs sets attempts = max and the reason (or the default)", async () => {
  await ready;
  const a = await utils.addRawJob("fail_me", {}, { maxAttempts: 5 });
  const b = await utils.addRawJob("fail_me");
  const [fa] = await utils.permanentlyFailJobs([a.id], "gave up");
  assert.equal(fa.attempts, 5);
  assert.equal(fa.lastError, "gave up");
  const [fb] = await utils.permanentlyFailJobs([b.id]);
  assert.equal(fb.attempts, 25);
  assert.equal(fb.lastError, "Manually marked as failed");
  await assert.rejects(utils.permanentlyFailJobs([a.id], ""), ValidationError);
});

test("rescheduleJobs changes only the given fields (priority 0 included)", async () => {
  await ready;
  const a = await utils.addRawJob("resched", {}, { priority: 5, maxAttempts: 4 });
  await sql.unsafe(`update ${S}._private_jobs set attempts = 4 where id = $1`, [a.id]);
  const runAt = new Date(Date.now() + 2 * HOUR);
  const [r] = await utils.rescheduleJobs([a.id], { runAt, priority: 0, attempts: 0 });
  assert.equal(r.runAt.getTime(), runAt.getTime());
  assert.equal(r.priority, 0);
  assert.equal(r.attempts, 0);
  assert.equal(r.maxAttempts, 4, "unchanged");
  const [r2] = await utils.rescheduleJobs([a.id], { maxAttempts: 9 });
  assert.equal(r2.maxAttempts, 9);
  assert.equal(r2.priority, 0);
  await lock(a.id, "w-r");
  assert.deepEqual(await utils.rescheduleJobs([a.id], { priority: 1 }), [], "locked: skipped");
});

test("forceUnlockWorkers clears locks on jobs and queues of those workers only", async () => {
  await ready;
  const a = await utils.addRawJob("unlock", {}, { queueName: "unlock_q" });
  const b = await utils.addRawJob("unlock");
  await lock(a.id, "dead-1");
  await lock(b.id, "alive-2");
  await sql.unsafe(
    `update ${S}._private_job_queues set locked_at = now(), locked_by = 'dead-1'
     where queue_name = 'unlock_q'`,
  );
  await utils.forceUnlockWorkers(["dead-1"]);
  assert.equal((await utils.getJob(a.id))?.lockedBy, null);
  assert.equal((await utils.getJob(b.id))?.lockedBy, "alive-2");
  const [q] = await sql.unsafe(
    `select locked_by from ${S}._private_job_queues where queue_name = 'unlock_q'`,
  );
  assert.equal(q.locked_by, null);
  await assert.rejects(utils.forceUnlockWorkers([""]), ValidationError);
});

test("cleanup: permafailed jobs, unused task identifiers and queues", async () => {
  await ready;
  await sql.unsafe(`delete from ${S}._private_jobs`);
  const dead = await utils.addRawJob("gc_dead", {}, { queueName: "gc_q_dead", maxAttempts: 1 });
  const lockedDead = await utils.addRawJob("gc_locked", {}, { maxAttempts: 1 });
  await utils.addRawJob("gc_alive", {}, { queueName: "gc_q_alive" });
  await sql.unsafe(`update ${S}._private_jobs set attempts = 1 where id = any($1::bigint[])`, [[
    dead.id,
    lockedDead.id,
  ]]);
  await lock(lockedDead.id, "w-gc");
  await utils.addRawJob("gc_keep_me");
  await sql.unsafe(`delete from ${S}._private_jobs where task_id =
    (select id from ${S}._private_tasks where identifier = 'gc_keep_me')`);

  const only = await utils.cleanup({ tasks: ["DELETE_PERMAFAILED_JOBS"] });
  assert.deepEqual(only, { deletedJobs: 1, deletedTaskIdentifiers: 0, deletedJobQueues: 0 });
  assert.equal(await utils.getJob(dead.id), null);
  assert.ok(await utils.getJob(lockedDead.id), "locked permafailed job kept");

  const queuesOnly = await utils.cleanup(); // graphile default: GC_JOB_QUEUES
  assert.equal(queuesOnly.deletedTaskIdentifiers, 0);
  assert.ok(queuesOnly.deletedJobQueues >= 1);
  const queues = (await sql.unsafe(`select queue_name from ${S}._private_job_queues`)).map((r) =>
    r.queue_name
  );
  assert.ok(!queues.includes("gc_q_dead"));
  assert.ok(queues.includes("gc_q_alive"));

  const both = await utils.cleanup({ taskIdentifiersToKeep: ["gc_keep_me"] });
  assert.ok(both.deletedTaskIdentifiers >= 1);
  const tasks = (await sql.unsafe(`select identifier from ${S}._private_tasks`)).map((r) =>
    r.identifier
  );
  assert.ok(tasks.includes("gc_keep_me"));
  assert.ok(tasks.includes("gc_alive") && tasks.includes("gc_locked"));
  assert.ok(!tasks.includes("gc_dead"));
  await assert.rejects(
    utils.cleanup({ tasks: ["GC_EVERYTHING" as "GC_JOB_QUEUES"] }),
    (e: unknown) => e instanceof ValidationError && e.field === "options.tasks[0]",
  );
});

test("withTransaction: jobs commit or roll back with the caller's transaction", async () => {
  await ready;
  const wrap = (tx: { unsafe: (t: string, p: never[]) => Promise<unknown> }): Queryable => ({
    async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const rows = await tx.unsafe(text, params as never[]) as R[];
      return { rows, rowCount: rows.length };
    },
  });
  const clientSql = adminSql(1);
  try {
    await assert.rejects(
      clientSql.begin(async (tx) => {
        await utils.withTransaction(wrap(tx)).addRawJob("tx_job", {}, { jobKey: "tx-rolled" });
        const [{ n }] = await tx.unsafe(`select count(*)::int as n from ${S}._private_jobs
          where key = 'tx-rolled'`);
        assert.equal(n, 1, "visible inside the transaction");
        throw new Error("roll back");
      }),
      /roll back/,
    );
    assert.equal(await utils.getJobByKey("tx-rolled"), null, "rolled back: no job");
    await clientSql.begin(async (tx) => {
      await utils.withTransaction(wrap(tx)).addRawJobs([
        { identifier: "tx_job", payload: {}, options: { jobKey: "tx-kept" } },
      ]);
    });
    assert.ok(await utils.getJobByKey("tx-kept"));
    // The driver's own transaction wrapper works the same way.
    await assert.rejects(
      driver.transaction(async (tx) => {
        await utils.withTransaction(tx).addJob(greet, { name: "tx" }, { jobKey: "tx-drv" });
        throw new Error("nope");
      }),
      /nope/,
    );
    assert.equal(await utils.getJobByKey("tx-drv"), null);
  } finally {
    await clientSql.end();
  }
});

test("adding a job sends NOTIFY jobs:insert", async () => {
  await ready;
  const listener = adminSql(1);
  const got: string[] = [];
  let wake: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (wake = resolve));
  const sub = await listener.listen("jobs:insert", (payload) => {
    got.push(payload);
    wake();
  });
  try {
    await utils.addRawJob("notify_me");
    await arrived;
    const msg = JSON.parse(got[0]);
    assert.equal(msg.count, 1);
    assert.equal(typeof msg.r, "number");
  } finally {
    await sub.unlisten();
    await listener.end();
  }
});

test("admin methods validate ids, keys and options before any query", async () => {
  await ready;
  const before = counted.count;
  const field = (f: string) => (e: unknown) => e instanceof ValidationError && e.field === f;
  await assert.rejects(utils.completeJobs(["12a"]), field("ids[0]"));
  await assert.rejects(utils.completeJobs("1" as unknown as string[]), field("ids"));
  await assert.rejects(utils.getJob("99999999999999999999"), field("id"));
  await assert.rejects(utils.permanentlyFailJobs([1 as unknown as string]), field("ids[0]"));
  await assert.rejects(
    utils.rescheduleJobs(["1"], { runAt: new Date("nope") }),
    field("options.runAt"),
  );
  await assert.rejects(utils.rescheduleJobs(["1"], { priority: 1.5 }), field("options.priority"));
  await assert.rejects(
    utils.rescheduleJobs(["1"], { maxAttempts: 0 }),
    field("options.maxAttempts"),
  );
  await assert.rejects(
    utils.rescheduleJobs(["1"], { runat: new Date() } as never),
    field("options"),
  );
  await assert.rejects(utils.removeJob(""), field("key"));
  await assert.rejects(utils.getJobByKey(undefined as unknown as string), field("key"));
  assert.equal(counted.count, before, "nothing reached the database");
});

test("migrate() installs the schema once; a second call applies nothing", async () => {
  await ready;
  const fresh = uniqueSchema("utils_mig");
  const u = createWorkerUtils({ driver, schema: fresh });
  try {
    await assert.rejects(u.addRawJob("before_migrate"), /migrate/);
    const first = await u.migrate();
    assert.ok(first.applied.includes(1) && first.applied.includes(20));
    const second = await u.migrate();
    assert.deepEqual(second.applied, []);
    const job = await u.addRawJob("after_migrate");
    assert.equal(job.taskIdentifier, "after_migrate");
  } finally {
    await dropSchema(fresh);
  }
});

test("release closes an owned pool only; a passed driver stays usable", async () => {
  await ready;
  const owned = createWorkerUtils({ database: databaseUrl(), schema });
  const job = await owned.addRawJob("owned_pool");
  const ownedDriver = owned.driver;
  await owned[Symbol.asyncDispose]();
  await owned.release(); // idempotent
  await assert.rejects(ownedDriver.query("select 1"));
  await assert.rejects(owned.getJob(job.id), (e: unknown) => e instanceof SpoolError);

  const borrowed = createWorkerUtils({ driver, schema });
  await borrowed.release();
  assert.equal((await driver.query<{ one: number }>("select 1 as one")).rows[0].one, 1);
});

test("teardown", async () => {
  await ready.catch(() => {});
  await utils.release();
  await driver.close();
  await sql.end();
  await dropSchema(schema);
});

test("utils: top-level JSON string, number and array payloads round-trip on every add path", async () => {
  const schema = uniqueSchema("utils_scalar_payloads");
  const utils = createWorkerUtils({ database: databaseUrl(), schema });
  try {
    await utils.migrate();
    const single = await utils.addRawJob("scalar", "hello");
    assert.equal(single.payload, "hello");
    const [a, b, c] = await utils.addRawJobs([
      { identifier: "scalar", payload: "bulk" },
      { identifier: "scalar", payload: 42 },
      { identifier: "scalar", payload: [1, "x"] },
    ]);
    assert.deepEqual([a.payload, b.payload, c.payload], ["bulk", 42, [1, "x"]]);
    assert.equal((await utils.getJob(single.id))?.payload, "hello");
  } finally {
    await utils.release();
    await dropSchema(schema);
  }
});
