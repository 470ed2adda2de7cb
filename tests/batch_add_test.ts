/**
 * Adding batch jobs: addBatchJob validation, key-debounced appends, a new job
 * when the keyed job is running (graphile's detach), ctx.addBatchJob and
 * withTransaction.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { deferred, setupDb, type TestDb, waitFor } from "./fixtures/worker_helpers.ts";
import type { Driver } from "../src/driver/types.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import type { WorkerOptions } from "../src/worker/types.ts";
import { createWorkerUtils, type WorkerUtils } from "../src/utils/worker_utils.ts";
import { defineBatchTask } from "../src/task/define_batch_task.ts";
import { defineTask } from "../src/task/define_task.ts";
import { ValidationError } from "../src/errors.ts";
import { silentLogger } from "../src/logger.ts";

let db: TestDb;
let driver: Driver;
let utils: WorkerUtils;

const Email = z.object({ to: z.string().email(), subject: z.string() });
type Email = z.output<typeof Email>;
const seen: Email[][] = [];
let gate: Promise<void> = Promise.resolve();

const sendEmails = defineBatchTask({
  identifier: "send_emails",
  item: Email,
  async run(items) {
    seen.push(items);
    await gate;
  },
});

const anything = defineBatchTask({ identifier: "anything", item: z.unknown(), run() {} });

const mail = (n: number): Email => ({ to: `u${n}@example.com`, subject: `s${n}` });

function options(extra: Partial<WorkerOptions> & Pick<WorkerOptions, "tasks">): WorkerOptions {
  return {
    database: databaseUrl(),
    maxPoolSize: 2,
    schema: db.schema,
    logger: silentLogger,
    noHandleSignals: true,
    ...extra,
  };
}

async function reset(): Promise<void> {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  seen.length = 0;
  gate = Promise.resolve();
}

async function jobCount(): Promise<number> {
  const [{ n }] = await db.sql.unsafe(`select count(*)::int as n from ${db.s}._private_jobs`);
  return n as number;
}

async function keyedRows(): Promise<{ key: string | null; payload: unknown; locked: boolean }[]> {
  const rows = await db.sql.unsafe(
    `select key, payload, locked_by is not null as locked from ${db.s}._private_jobs order by id`,
  );
  return rows as unknown as { key: string | null; payload: unknown; locked: boolean }[];
}

async function rejectsWith(p: Promise<unknown>, field: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected a ValidationError, got ${e}`);
    assert.equal(e.field, field);
    assert.match(e.message, message);
    return true;
  });
}

test("batch add: setup", async () => {
  db = await setupDb("batch_add");
  driver = db.driver(3);
  utils = createWorkerUtils({ driver, schema: db.schema });
});

test("addBatchJob stores the items as one JSON array job", async () => {
  await reset();
  const job = await utils.addBatchJob(sendEmails, [mail(1), mail(2)], { priority: 3 });
  assert.equal(job.taskIdentifier, "send_emails");
  assert.deepEqual(job.payload, [mail(1), mail(2)]);
  assert.equal(job.priority, 3);
  const [row] = await db.jobs();
  assert.equal(row.id, job.id);
  assert.deepEqual(row.payload, [mail(1), mail(2)]);
});

test("addBatchJob validation errors name the field and insert nothing", async () => {
  await reset();
  const add = utils.addBatchJob as (t: unknown, i: unknown, o?: unknown) => Promise<unknown>;
  await rejectsWith(add(sendEmails, "nope"), "items", /must be an array of items .* "nope"/);
  await rejectsWith(add(sendEmails, { to: "a@b.c" }), "items", /must be an array/);
  await rejectsWith(add(sendEmails, null), "items", /must be an array/);
  await rejectsWith(add(sendEmails, []), "items", /at least one item/);
  await rejectsWith(
    add(sendEmails, [mail(1), { to: "not-an-email", subject: "x" }]),
    "items[1]",
    /does not match the item schema of batch task "send_emails": to: /,
  );
  await rejectsWith(add(anything, [1, { f: () => 1 }]), "items[1]", /JSON-serialisable.*function/);
  await rejectsWith(add(sendEmails, [mail(1)], { priority: 1.5 }), "options.priority", /integer/);
  const plain = defineTask({ identifier: "plain", payload: z.array(z.unknown()), run() {} });
  await rejectsWith(add(plain, [1]), "task", /defineBatchTask/);
  await rejectsWith(add(undefined, [1]), "task", /defineBatchTask/);
  const err = await add(sendEmails, [{ to: 1 }]).then(() => undefined, (e: ValidationError) => e);
  assert.equal(err?.code, "INVALID_PAYLOAD");
  assert.equal(await jobCount(), 0);
});

test("same jobKey while waiting: items are appended and runAt moves (debounce)", async () => {
  await reset();
  const base = Date.now() + 60_000;
  const t = (s: number) => new Date(base + s * 1000);
  const a = await utils.addBatchJob(sendEmails, [mail(1)], { jobKey: "digest", runAt: t(1) });
  const b = await utils.addBatchJob(sendEmails, [mail(2), mail(3)], {
    jobKey: "digest",
    runAt: t(2),
  });
  const c = await utils.addBatchJob(sendEmails, [mail(4)], { jobKey: "digest", runAt: t(3) });
  assert.equal(b.id, a.id);
  assert.equal(c.id, a.id);
  assert.equal(c.revision, 2);
  assert.deepEqual(c.payload, [mail(1), mail(2), mail(3), mail(4)]);
  assert.equal(c.runAt.getTime(), t(3).getTime());
  const rows = await db.jobs();
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0].payload, [mail(1), mail(2), mail(3), mail(4)]);

  // preserve_run_at appends too but keeps the first runAt (a fixed window).
  const p1 = await utils.addBatchJob(sendEmails, [mail(5)], {
    jobKey: "window",
    jobKeyMode: "preserve_run_at",
    runAt: t(10),
  });
  const p2 = await utils.addBatchJob(sendEmails, [mail(6)], {
    jobKey: "window",
    jobKeyMode: "preserve_run_at",
    runAt: t(20),
  });
  assert.equal(p2.id, p1.id);
  assert.deepEqual(p2.payload, [mail(5), mail(6)]);
  assert.equal(p2.runAt.getTime(), t(10).getTime());
  assert.equal(await jobCount(), 2);

  // The worker then runs each burst as one job.
  const worker = await createWorker(options({ tasks: [sendEmails] }));
  await db.sql.unsafe(`update ${db.s}._private_jobs set run_at = now() - interval '1 second'`);
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(
    seen.map((items) => items.length).sort(),
    [2, 4],
  );
  assert.equal(await jobCount(), 0);
});

test("same jobKey while the job runs: a new job; the running one loses its key", async () => {
  await reset();
  const release = deferred();
  gate = release.promise;
  await utils.addBatchJob(sendEmails, [mail(1), mail(2)], { jobKey: "burst" });
  const worker = await createWorker(options({ tasks: [sendEmails] }));
  const done = worker.runOnce();
  try {
    await waitFor("the keyed job to be running", () => seen.length === 1, 10_000);
    const added = await utils.addBatchJob(sendEmails, [mail(3)], { jobKey: "burst" });
    assert.deepEqual(added.payload, [mail(3)]);
    assert.equal(added.revision, 0);
    const rows = await keyedRows();
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], { key: null, payload: [mail(1), mail(2)], locked: true });
    assert.deepEqual(rows[1], { key: "burst", payload: [mail(3)], locked: false });
  } finally {
    release.resolve();
    await done;
    await worker.stop();
  }
  assert.deepEqual(seen, [[mail(1), mail(2)], [mail(3)]]);
  assert.equal(await jobCount(), 0);
});

test("ctx.addBatchJob from a task; its validation errors fail the parent", async () => {
  await reset();
  const parent = defineTask({
    identifier: "batch_parent",
    payload: z.object({ n: z.number() }),
    async run(payload, ctx) {
      await ctx.addBatchJob(
        sendEmails,
        Array.from({ length: payload.n }, (_, i) => mail(i)),
        { jobKey: "from-parent" },
      );
    },
  });
  const worker = await createWorker(options({ tasks: [parent, sendEmails] }));
  try {
    await db.addJob("batch_parent", { n: 2 });
    await db.addJob("batch_parent", { n: 0 }, { maxAttempts: 1 });
    await worker.runOnce();
  } finally {
    await worker.stop();
  }
  assert.deepEqual(seen, [[mail(0), mail(1)]]);
  const rows = await db.jobs();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].task_identifier, "batch_parent");
  assert.match(rows[0].last_error!, /Invalid items: must hold at least one item/);
});

test("withTransaction(tx).addBatchJob commits or rolls back with the transaction", async () => {
  await reset();
  await assert.rejects(
    driver.transaction(async (tx) => {
      await utils.withTransaction(tx).addBatchJob(sendEmails, [mail(1)], { jobKey: "tx" });
      throw new Error("roll back");
    }),
    /roll back/,
  );
  assert.equal(await jobCount(), 0);
  await driver.transaction(async (tx) => {
    await utils.withTransaction(tx).addBatchJob(sendEmails, [mail(1)], { jobKey: "tx" });
    await utils.withTransaction(tx).addBatchJob(sendEmails, [mail(2)], { jobKey: "tx" });
  });
  const job = await utils.getJobByKey("tx");
  assert.deepEqual(job?.payload, [mail(1), mail(2)]);
});

test("defineBatchTask checks its options; createWorker accepts batch tasks", async () => {
  const bad = defineBatchTask as (o: unknown) => unknown;
  assert.throws(() => bad({ identifier: "x", item: {}, run() {} }), (e: unknown) => {
    return e instanceof ValidationError && e.field === "item";
  });
  assert.throws(() => bad({ identifier: "", item: z.string(), run() {} }), ValidationError);
  assert.throws(() => bad({ identifier: "x", item: z.string() }), /Invalid run/);
  assert.equal(sendEmails.kind, "batch");
  assert.ok(Object.isFrozen(sendEmails));
  const twin = defineTask({ identifier: "send_emails", payload: z.unknown(), run() {} });
  await assert.rejects(
    createWorker(options({ tasks: [sendEmails, twin] })),
    (e: unknown) => e instanceof ValidationError && e.field === "tasks[1].identifier",
  );
});

test("batch add: teardown", async () => {
  await driver.close();
  await db.close();
});
