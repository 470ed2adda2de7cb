import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { setupDb, type TestDb, waitFor } from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import type { Worker } from "../src/worker/types.ts";
import { defineTask } from "../src/task/define_task.ts";
import { silentLogger } from "../src/logger.ts";

let db: TestDb;

async function addMany(identifier: string, from: number, to: number): Promise<void> {
  await db.sql.unsafe(
    `select ${db.s}.add_jobs(array(
       select (${"$1"}::text, json_build_object('n', i), null, null, null, null, null, null)::${db.s}.job_spec
       from generate_series(${"$2"}::int, ${"$3"}::int) as i))`,
    [identifier, from, to],
  );
}

test("worker concurrency: setup", async () => {
  db = await setupDb("worker_concurrency");
});

test("4 workers × concurrency 10 run each of 2,000 jobs exactly once", async () => {
  const TOTAL = 2000;
  const runs = new Map<number, number>();
  const byWorker = new Map<string, number>();
  let reruns = 0;
  const task = defineTask({
    identifier: "once",
    payload: z.object({ n: z.number() }),
    async run(p, ctx) {
      runs.set(p.n, (runs.get(p.n) ?? 0) + 1);
      if (ctx.job.attempts !== 1) reruns++;
      if (p.n % 7 === 0) await new Promise((r) => setTimeout(r, 1));
    },
  });
  await addMany("once", 1, TOTAL / 2);
  const workers: Worker[] = [];
  for (let i = 0; i < 4; i++) {
    const driver = db.driver(4);
    const worker = await createWorker({
      driver,
      schema: db.schema,
      tasks: [task],
      concurrency: 10,
      pollInterval: 1000,
      logger: silentLogger,
      noHandleSignals: true,
    });
    workers.push(worker);
    byWorker.set(worker.id, 0);
  }
  const running = workers.map((w) => w.run());
  await addMany("once", TOTAL / 2 + 1, TOTAL);
  // A worker whose run() fails ends the wait at once.
  await Promise.race([
    waitFor("all jobs to run", () => runs.size === TOTAL, 60_000).catch(async (e) => {
      const state = await db.sql.unsafe(
        `select locked_by, count(*)::int as n, min(run_at) as first_run_at, max(attempts) as attempts
         from ${db.s}._private_jobs group by locked_by`,
      );
      throw new Error(`${e.message}: ran ${runs.size}; left ${JSON.stringify(state)}`);
    }),
    ...running,
  ]);
  await waitFor("the table to empty", async () => {
    const [{ count }] = await db.sql.unsafe(
      `select count(*)::int as count from ${db.s}._private_jobs`,
    );
    return count === 0;
  });
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(running);
  for (const w of workers) await w.utils.driver.close();
  const doubles = [...runs.entries()].filter(([, c]) => c !== 1);
  assert.deepEqual(doubles, [], "every job ran exactly once");
  assert.equal(runs.size, TOTAL);
  assert.equal(reruns, 0);
});

test("named queues never run two jobs at once, across 2 workers, in run_at order", async () => {
  const spans = new Map<string, Array<{ i: number; start: number; end: number }>>();
  let parallelRunning = 0;
  let parallelPeak = 0;
  const task = defineTask({
    identifier: "queued",
    payload: z.object({ q: z.string().nullable(), i: z.number() }),
    async run(p) {
      const start = performance.now();
      if (p.q === null) {
        parallelRunning++;
        parallelPeak = Math.max(parallelPeak, parallelRunning);
      }
      await new Promise((r) => setTimeout(r, 5 + (p.i % 3) * 5));
      if (p.q === null) parallelRunning--;
      const end = performance.now();
      if (p.q !== null) {
        const list = spans.get(p.q) ?? [];
        list.push({ i: p.i, start, end });
        spans.set(p.q, list);
      }
    },
  });
  const t0 = Date.now() - 60_000;
  for (let i = 0; i < 12; i++) {
    for (const q of ["qa", "qb", "qc"]) {
      await db.addJob("queued", { q, i }, { queueName: q, runAt: new Date(t0 + i * 10) });
    }
    await db.addJob("queued", { q: null, i }, { runAt: new Date(t0 + i * 10) });
  }
  const workers: Worker[] = [];
  for (let w = 0; w < 2; w++) {
    workers.push(
      await createWorker({
        driver: db.driver(4),
        schema: db.schema,
        tasks: [task],
        concurrency: 6,
        pollInterval: 200,
        logger: silentLogger,
        noHandleSignals: true,
      }),
    );
  }
  const running = workers.map((w) => w.run());
  await waitFor("all queued jobs to finish", async () => {
    const [{ count }] = await db.sql.unsafe(
      `select count(*)::int as count from ${db.s}._private_jobs`,
    );
    return count === 0;
  }, 60_000);
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(running);
  for (const w of workers) await w.utils.driver.close();
  for (const q of ["qa", "qb", "qc"]) {
    const list = spans.get(q)!;
    assert.equal(list.length, 12, `queue ${q} ran all jobs`);
    list.sort((a, b) => a.start - b.start);
    assert.deepEqual(list.map((s) => s.i), Array.from({ length: 12 }, (_, i) => i), `${q} order`);
    for (let k = 1; k < list.length; k++) {
      assert.ok(
        list[k].start >= list[k - 1].end,
        `queue ${q}: job ${list[k].i} started before job ${list[k - 1].i} ended`,
      );
    }
  }
  assert.ok(parallelPeak >= 2, `jobs without a queue ran in parallel (peak ${parallelPeak})`);
  const [{ locked }] = await db.sql.unsafe(
    `select count(*)::int as locked from ${db.s}._private_job_queues where locked_by is not null`,
  );
  assert.equal(locked, 0, "no queue left locked");
});

test("worker concurrency: teardown", async () => {
  await db.close();
});
