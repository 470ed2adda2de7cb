import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import type { WorkerOptions } from "../src/worker/types.ts";
import { defineTask } from "../src/task/define_task.ts";
import { silentLogger } from "../src/logger.ts";
import { jobsFetch } from "../src/sql/jobs_fetch.ts";
import { jobsFail } from "../src/sql/jobs_fail.ts";
import { tasksIdsGet } from "../src/sql/tasks_ids.ts";

let db: TestDb;

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

async function dbNow(): Promise<number> {
  const [row] = await db.sql`select now() as now`;
  return (row.now as Date).getTime();
}

/** Make every job due again (as if its backoff had passed). */
async function makeDue(): Promise<void> {
  await db.sql.unsafe(`update ${db.s}._private_jobs set run_at = now() - interval '1 second'`);
}

const boom = defineTask({
  identifier: "boom",
  payload: z.object({}),
  run() {
    throw new Error("kaboom: disk full");
  },
});

test("worker retries: setup", async () => {
  db = await setupDb("worker_retry");
});

test("a throwing task fails the job: last_error, unlocked, run_at = now + exp(attempts) s", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const id = await db.addJob("boom", {}, { queueName: "retry_q" });
  const worker = await createWorker(options({ tasks: [boom] }));
  for (const attempts of [1, 2, 3]) {
    const before = await dbNow();
    await worker.runOnce();
    const after = await dbNow();
    const [row] = await db.jobs();
    assert.equal(row.id, id);
    assert.equal(row.attempts, attempts);
    assert.equal(row.last_error, "kaboom: disk full");
    assert.equal(row.locked_by, null);
    assert.equal(row.locked_at, null);
    const delay = Math.exp(attempts) * 1000;
    const runAt = row.run_at.getTime();
    assert.ok(
      runAt >= before + delay - 50 && runAt <= after + delay + 50,
      `attempt ${attempts}: run_at ${runAt - before} ms after start, expected ~${delay}`,
    );
    // The named queue was released.
    const [queue] = await db.sql.unsafe(
      `select locked_by from ${db.s}._private_job_queues where queue_name = 'retry_q'`,
    );
    assert.equal(queue.locked_by, null);
    await makeDue();
  }
  await worker.stop();
});

test("at max_attempts the job is permanently failed and kept", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  let runs = 0;
  const flaky = defineTask({
    identifier: "flaky",
    payload: z.object({}),
    run() {
      runs++;
      throw new Error(`failure #${runs}`);
    },
  });
  const id = await db.addJob("flaky", {}, { maxAttempts: 2 });
  const worker = await createWorker(options({ tasks: [flaky] }));
  await worker.runOnce();
  await makeDue();
  await worker.runOnce();
  await makeDue();
  await worker.runOnce(); // nothing left to run: attempts = max_attempts
  await worker.stop();
  assert.equal(runs, 2);
  const rows = await db.jobs();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].id, id);
  assert.equal(rows[0].attempts, 2);
  assert.equal(rows[0].max_attempts, 2);
  assert.equal(rows[0].last_error, "failure #2");
  assert.equal(rows[0].locked_by, null);
});

test("option backoff replaces the default curve; non-Error throws are recorded too", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const seen: number[] = [];
  const stringy = defineTask({
    identifier: "stringy",
    payload: z.object({}),
    run() {
      throw "plain string failure";
    },
  });
  await db.addJob("stringy", {});
  const worker = await createWorker(options({
    tasks: [stringy],
    backoff: (attempts) => {
      seen.push(attempts);
      return 100 * attempts;
    },
  }));
  for (const attempts of [1, 2]) {
    const before = await dbNow();
    await worker.runOnce();
    const after = await dbNow();
    const [row] = await db.jobs();
    assert.equal(row.last_error, "plain string failure");
    const delay = 100_000 * attempts;
    const runAt = row.run_at.getTime();
    assert.ok(runAt >= before + delay - 50 && runAt <= after + delay + 50, `attempt ${attempts}`);
    await makeDue();
  }
  await worker.stop();
  assert.deepEqual(seen, [1, 2]);
});

test("jobsFail only touches jobs locked by the given worker", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const id = await db.addJob("boom", {});
  const driver = db.driver(1);
  try {
    const byId = await tasksIdsGet(driver, { schema: db.schema, identifiers: ["boom"] });
    const [job] = await jobsFetch(driver, {
      schema: db.schema,
      workerId: "worker-a",
      taskIds: [...byId.keys()],
      batchSize: 5,
    });
    assert.equal(job.id, id);
    const other = await jobsFail(driver, {
      schema: db.schema,
      workerId: "worker-b",
      failures: [{ id, message: "not mine" }],
    });
    assert.equal(other.length, 0);
    let [row] = await db.jobs();
    assert.equal(row.locked_by, "worker-a");
    assert.equal(row.last_error, null);
    const mine = await jobsFail(driver, {
      schema: db.schema,
      workerId: "worker-a",
      failures: [{ id, message: "mine" }],
    });
    assert.equal(mine.length, 1);
    [row] = await db.jobs();
    assert.equal(row.locked_by, null);
    assert.equal(row.last_error, "mine");
  } finally {
    await driver.close();
  }
});

test("worker retries: teardown", async () => {
  await db.close();
});
