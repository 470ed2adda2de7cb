/**
 * Interop (issue 9), part 1: a schema migrated by Spool (migrations 1–20 plus
 * Spool's own 21+) is run by graphile-worker 0.18. graphile-worker must start
 * (warning about the newer, non-breaking revision, never failing) and run
 * every kind of job Spool adds: typed and raw jobs, bulk adds, job keys in all
 * three modes, named queues, priorities, future run_at, flags and batch
 * (JSON array) payloads.
 */
import assert from "node:assert/strict";
import {
  run as gwRun,
  runMigrations as gwRunMigrations,
  runOnce as gwRunOnce,
  type Task,
  type TaskList,
} from "graphile-worker";
import { z } from "zod";
import { test } from "../_harness.ts";
import { defineBatchTask } from "../../src/task/define_batch_task.ts";
import { defineTask } from "../../src/task/define_task.ts";
import { createWorkerUtils } from "../../src/utils/worker_utils.ts";
import {
  graphileLogger,
  gwOptions,
  migrationRows,
  sleep,
  tableJobs,
  waitFor,
  withDatabase,
} from "./_interop.ts";

const HOUR = 3_600_000;

test("interop: graphile-worker starts on a Spool-migrated schema and runs Spool's jobs", async () => {
  await withDatabase("gw_on_spool", "spool", async (db) => {
    const { sql, schema } = db;
    const before = await migrationRows(sql, schema);
    const highest = before[before.length - 1].id;
    assert.ok(highest >= 21, `Spool applies its own migrations (highest ${highest})`);
    for (const row of before.filter((r) => r.id > 20)) {
      assert.equal(row.breaking, false, `Spool migration ${row.id} must not be breaking`);
    }

    // graphile-worker's migrator: a warning about the newer revision, no error, no new rows.
    const log = graphileLogger();
    await gwRunMigrations({ connectionString: db.url, schema, logger: log.logger });
    assert.deepEqual(await migrationRows(sql, schema), before);
    assert.ok(
      log.warnings().some((w) =>
        w.includes(`schema revision ${highest}`) && w.includes("up to revision 20")
      ),
      `expected the newer-revision warning, got ${JSON.stringify(log.lines)}`,
    );
    assert.deepEqual(log.errors(), []);

    // A running graphile-worker picks up a job Spool adds.
    const seen: unknown[] = [];
    const runner = await gwRun(
      gwOptions(db, log, { taskList: { hello: (payload) => void seen.push(payload) } }),
    );
    const utils = createWorkerUtils({ database: db.url, schema });
    try {
      await utils.addRawJob("hello", { from: "spool" });
      await waitFor("graphile-worker to run the Spool job", () => seen.length === 1, 10_000);
      assert.deepEqual(seen, [{ from: "spool" }]);
    } finally {
      await runner.stop();
      await utils.release();
    }
    assert.deepEqual(log.errors(), []);
    assert.deepEqual(await tableJobs(sql, schema), []);
  });
});

interface Ran {
  identifier: string;
  payload: unknown;
  key: string | null;
  priority: number;
  attempts: number;
  maxAttempts: number;
  flags: Record<string, true> | null;
}

test("interop: graphile-worker runs every kind of job Spool adds", async () => {
  await withDatabase("gw_runs_spool", "spool", async (db) => {
    const { sql, schema } = db;
    const log = graphileLogger();
    const utils = createWorkerUtils({ database: db.url, schema });
    let ran: Ran[] = [];
    const queueActive = new Map<string, number>();
    let queueOverlap = 0;
    const record: Task = (payload, helpers) => {
      const j = helpers.job;
      ran.push({
        identifier: j.task_identifier,
        payload,
        key: j.key,
        priority: j.priority,
        attempts: j.attempts,
        maxAttempts: j.max_attempts,
        flags: j.flags,
      });
    };
    const taskList: TaskList = {
      greet: record,
      raw: record,
      order: record,
      keyed: record,
      async queued(payload, helpers) {
        const q = (payload as { q: string }).q;
        const active = (queueActive.get(q) ?? 0) + 1;
        queueActive.set(q, active);
        if (active > 1) queueOverlap++;
        record(payload, helpers);
        await sleep(15);
        queueActive.set(q, (queueActive.get(q) ?? 1) - 1);
      },
      // graphile-worker's batch protocol: one promise per payload entry.
      batch(payload, helpers) {
        record(payload, helpers);
        return (payload as number[]).map((n) =>
          n % 3 === 0 ? Promise.reject(new Error(`no ${n}`)) : Promise.resolve()
        );
      },
    };
    const drain = async (extra: { forbiddenFlags?: string[]; concurrency?: number } = {}) => {
      ran = [];
      await gwRunOnce(gwOptions(db, log, { taskList, concurrency: 1, ...extra }));
      // runOnce can resolve before its last outcome is written; wait for the locks to clear.
      await waitFor("graphile-worker to write the outcomes", async () => {
        const [row] = await sql.unsafe(
          `select count(*)::int as c from "${schema}"._private_jobs where locked_at is not null`,
        );
        return row.c === 0;
      }, 5_000);
      return ran;
    };
    const payloads = (rs: Ran[]) => rs.map((r) => r.payload);
    try {
      // Typed and raw adds, one at a time and in bulk.
      const greet = defineTask({
        identifier: "greet",
        payload: z.object({ name: z.string() }),
        run() {},
      });
      await utils.addJob(greet, { name: "Ada" });
      await utils.addJobs(greet, [
        { payload: { name: "Bo" } },
        { payload: { name: "Cy" }, options: { maxAttempts: 3 } },
      ]);
      await utils.addRawJob("raw", { k: 1 });
      await utils.addRawJobs([
        { identifier: "raw", payload: { k: 2 } },
        { identifier: "greet", payload: { name: "Di" } },
      ]);
      let runs = await drain();
      assert.equal(runs.length, 6);
      const byName = (n: string) => runs.find((r) => (r.payload as { name?: string }).name === n)!;
      assert.deepEqual(
        runs.filter((r) => r.identifier === "greet").map((r) =>
          (r.payload as { name: string }).name
        )
          .sort(),
        ["Ada", "Bo", "Cy", "Di"],
      );
      assert.deepEqual(payloads(runs.filter((r) => r.identifier === "raw")), [{ k: 1 }, { k: 2 }]);
      assert.equal(byName("Cy").maxAttempts, 3);
      assert.equal(byName("Ada").maxAttempts, 25);
      assert.ok(runs.every((r) => r.attempts === 1 && r.flags === null && r.key === null));
      assert.deepEqual(await tableJobs(sql, schema), []);

      // Priorities: lower runs first.
      for (const p of [5, -5, 0, 10, -10]) {
        await utils.addRawJob("order", { p }, { priority: p });
      }
      runs = await drain();
      assert.deepEqual(payloads(runs), [-10, -5, 0, 5, 10].map((p) => ({ p })));
      assert.deepEqual(runs.map((r) => r.priority), [-10, -5, 0, 5, 10]);

      // Named queues: one job at a time per queue, in order, even with concurrency 4.
      for (let i = 0; i < 8; i++) {
        const q = i % 2 === 0 ? "qa" : "qb";
        await utils.addRawJob("queued", { q, i }, { queueName: q });
      }
      // runOnce stops when a worker finds a queue busy, so a running worker drains them.
      ran = [];
      const runner = await gwRun(gwOptions(db, log, { taskList, concurrency: 4 }));
      try {
        await waitFor(
          "graphile-worker to finish the queued jobs",
          async () => ran.length === 8 && (await tableJobs(sql, schema)).length === 0,
          10_000,
        );
      } finally {
        await runner.stop();
      }
      runs = ran;
      assert.equal(queueOverlap, 0, "a named queue ran two jobs at once");
      for (const q of ["qa", "qb"]) {
        const order = runs.map((r) => r.payload as { q: string; i: number }).filter((p) =>
          p.q === q
        ).map((p) => p.i);
        assert.deepEqual(order, [...order].sort((a, b) => a - b), `queue ${q} ran out of order`);
      }
      const queueRows = await sql.unsafe(
        `select queue_name, locked_by from "${schema}"._private_job_queues order by queue_name`,
      );
      assert.deepEqual(queueRows.map((r) => [r.queue_name, r.locked_by]), [
        ["qa", null],
        ["qb", null],
      ]);

      // Future run_at: not run until rescheduled.
      const later = await utils.addRawJob("order", { future: true }, {
        runAt: new Date(Date.now() + HOUR),
      });
      assert.deepEqual(await drain(), []);
      const [waiting] = await tableJobs(sql, schema);
      assert.equal(waiting.attempts, 0);
      assert.equal(waiting.locked_by, null);
      await utils.rescheduleJobs([later.id], { runAt: new Date(Date.now() - 1000) });
      assert.deepEqual(payloads(await drain()), [{ future: true }]);

      // Flags: graphile-worker's forbiddenFlags skip Spool's flagged jobs.
      await utils.addRawJob("order", { flagged: true }, { flags: ["slow", "heavy"] });
      assert.deepEqual(await drain({ forbiddenFlags: ["slow"] }), []);
      runs = await drain({ forbiddenFlags: ["other"] });
      assert.deepEqual(payloads(runs), [{ flagged: true }]);
      assert.deepEqual(runs[0].flags, { slow: true, heavy: true });

      // Job keys in every mode.
      await utils.addRawJob("keyed", { v: 1 }, { jobKey: "kr" });
      await utils.addRawJob("keyed", { v: 2 }, { jobKey: "kr", jobKeyMode: "replace" });
      const future = new Date(Date.now() + HOUR);
      await utils.addRawJob("keyed", { v: 1 }, { jobKey: "kp", runAt: future });
      const kept = await utils.addRawJob("keyed", { v: 2 }, {
        jobKey: "kp",
        jobKeyMode: "preserve_run_at",
        runAt: new Date(),
      });
      assert.equal(kept.runAt.getTime(), future.getTime(), "preserve_run_at keeps run_at");
      await utils.addRawJob("keyed", { v: 1 }, { jobKey: "kd", jobKeyMode: "unsafe_dedupe" });
      const dedupe = await utils.addRawJob("keyed", { v: 2 }, {
        jobKey: "kd",
        jobKeyMode: "unsafe_dedupe",
      });
      assert.deepEqual(dedupe.payload, { v: 1 });
      runs = await drain();
      assert.deepEqual(
        runs.map((r) => [r.key, r.payload]).sort((a, b) =>
          String(a[0]).localeCompare(String(b[0]))
        ),
        [["kd", { v: 1 }], ["kr", { v: 2 }]],
      );
      const [pending] = await tableJobs(sql, schema);
      assert.equal(pending.key, "kp");
      assert.deepEqual(pending.payload, { v: 2 });
      assert.equal(pending.revision, 1);
      assert.equal((await utils.removeJob("kp"))?.key, "kp");

      // Batch payloads: arrays under one key are merged; graphile-worker keeps the failed entries.
      await utils.addRawJob("batch", [1, 2], { jobKey: "kb" });
      await utils.addRawJob("batch", [3, 4], { jobKey: "kb" });
      await utils.addRawJobs([{ identifier: "batch", payload: [5], options: { jobKey: "kb2" } }]);
      await utils.addRawJob("batch", [6, 7], { jobKey: "kb2" });
      // Spool's typed batch API writes the same array payloads.
      const numbers = defineBatchTask({ identifier: "batch", item: z.number(), run() {} });
      await utils.addBatchJob(numbers, [10, 11], { jobKey: "kb3" });
      await utils.addBatchJob(numbers, [12], { jobKey: "kb3" });
      runs = await drain();
      assert.deepEqual(payloads(runs).sort(), [[1, 2, 3, 4], [10, 11, 12], [5, 6, 7]]);
      const left = await tableJobs(sql, schema);
      assert.deepEqual(left.map((j) => [j.key, j.payload, j.attempts]).sort(), [
        ["kb", [3], 1],
        ["kb2", [6], 1],
        ["kb3", [12], 1],
      ]);
      assert.deepEqual(
        left.map((j) => j.last_error).sort(),
        [
          "Batch failures:\nno 12",
          "Batch failures:\nno 3",
          "Batch failures:\nno 6",
        ].sort(),
      );
      assert.ok(left.every((j) => j.locked_at === null && j.locked_by === null));
    } finally {
      await utils.release();
    }
    // The only errors are the batch entries failing on purpose.
    assert.deepEqual(
      log.errors().filter((e) => !e.startsWith("Failed task")),
      [],
      "graphile-worker logged errors",
    );
  });
});
