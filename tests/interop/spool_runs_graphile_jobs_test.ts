/**
 * Interop (issue 9), part 2: a schema migrated by graphile-worker 0.18 (1–20).
 * Spool starts on it, adds its own migrations (21+) while a graphile-worker
 * runner is running, and runs the jobs graphile-worker added: options, job
 * keys in every mode, queues, priorities, flags, future run_at, batch payloads.
 * graphile-worker keeps working afterwards.
 */
import assert from "node:assert/strict";
import { makeWorkerUtils, run as gwRun, runMigrations as gwRunMigrations } from "graphile-worker";
import { test } from "../_harness.ts";
import { recordingLogger } from "../fixtures/worker_helpers.ts";
import { createWorker } from "../../src/worker/create_worker.ts";
import type { JobInfo } from "../../src/task/types.ts";
import { BatchResult } from "../../src/task/batch_result.ts";
import { defineBatchTask } from "../../src/task/define_batch_task.ts";
import { z } from "zod";
import {
  graphileLogger,
  gwOptions,
  migrationRows,
  rawTask,
  tableJobs,
  waitFor,
  withDatabase,
} from "./_interop.ts";

const HOUR = 3_600_000;

test("interop: Spool migrates a graphile-worker schema and runs graphile-worker's jobs", async () => {
  const log = graphileLogger();
  await withDatabase("spool_on_gw", "graphile", async (db) => {
    const { sql, schema } = db;
    const before = await migrationRows(sql, schema);
    assert.equal(before[before.length - 1].id, 20);

    // A graphile-worker runner that stays up while Spool migrates.
    const gwSeen: unknown[] = [];
    const runner = await gwRun(
      gwOptions(db, log, { taskList: { gw_only: (payload) => void gwSeen.push(payload) } }),
    );
    const gw = await makeWorkerUtils({
      connectionString: db.url,
      schema,
      logger: log.logger,
    });
    const spoolLog = recordingLogger();
    const ran: { payload: unknown; job: JobInfo }[] = [];
    const record = (payload: unknown, ctx: { job: JobInfo }) =>
      void ran.push({ payload, job: ctx.job });
    const worker = await createWorker({
      database: db.url,
      schema,
      tasks: [
        rawTask("plain", record),
        rawTask("keyed", record),
        // Spool's batch task on graphile-worker's array payload: item 3 fails, so only it stays.
        defineBatchTask({
          identifier: "batch",
          item: z.number(),
          run(items, ctx) {
            record(items, ctx);
            return items.map((n) => n === 3 ? BatchResult.fail(`no ${n}`) : BatchResult.ok());
          },
        }),
      ],
      concurrency: 1,
      pollInterval: 50,
      forbiddenFlags: ["blocked"],
      noHandleSignals: true,
      logger: spoolLog,
      maxPoolSize: 4,
    });
    let running: Promise<void> | undefined;
    try {
      // Jobs added by graphile-worker's WorkerUtils, before Spool has touched the schema.
      const future = new Date(Date.now() + HOUR);
      await gw.addJob("plain", { a: 1 });
      await gw.addJob("plain", { a: 2 }, {
        queueName: "q1",
        priority: 3,
        maxAttempts: 4,
        flags: ["x"],
      });
      await gw.addJob("plain", { a: 3 }, { runAt: future });
      await gw.addJobs([
        { identifier: "plain", payload: { a: 4 }, priority: -2 },
        { identifier: "plain", payload: { a: 5 }, jobKey: "k5" },
      ]);
      await gw.addJob("plain", { a: 6 }, { flags: ["blocked"] });
      await gw.addJob("keyed", { v: 1 }, { jobKey: "kr" });
      await gw.addJob("keyed", { v: 2 }, { jobKey: "kr", jobKeyMode: "replace" });
      await gw.addJob("keyed", { v: 1 }, { jobKey: "kp", runAt: future });
      await gw.addJob("keyed", { v: 2 }, { jobKey: "kp", jobKeyMode: "preserve_run_at" });
      await gw.addJob("keyed", { v: 1 }, { jobKey: "kd", jobKeyMode: "unsafe_dedupe" });
      await gw.addJob("keyed", { v: 2 }, { jobKey: "kd", jobKeyMode: "unsafe_dedupe" });
      await gw.addJob("batch", [1, 2], { jobKey: "kb", maxAttempts: 1 });
      await gw.addJob("batch", [3], { jobKey: "kb", maxAttempts: 1 });

      running = worker.run();
      await waitFor("Spool to run graphile-worker's jobs", () => ran.length >= 7, 15_000);
      await waitFor(
        "Spool to finish them",
        async () => (await tableJobs(sql, schema)).length === 4,
      );

      // Spool added its own migrations, none breaking.
      const after = await migrationRows(sql, schema);
      assert.deepEqual(after.slice(0, 20), before);
      assert.ok(after.length > 20 && after[20].id === 21, "Spool applied migration 21");
      assert.ok(after.slice(20).every((r) => !r.breaking));

      const find = (p: Record<string, unknown>) =>
        ran.find((r) => JSON.stringify(r.payload) === JSON.stringify(p));
      assert.deepEqual(
        ran.map((r) => r.payload).sort((a, b) =>
          JSON.stringify(a).localeCompare(JSON.stringify(b))
        ),
        [{ a: 1 }, { a: 2 }, { a: 4 }, { a: 5 }, { v: 1 }, { v: 2 }, [1, 2, 3]].sort((a, b) =>
          JSON.stringify(a).localeCompare(JSON.stringify(b))
        ),
      );
      // Priorities: the -2 job first, the priority-3 job last (concurrency 1).
      assert.deepEqual(ran[0].payload, { a: 4 });
      assert.deepEqual(ran[ran.length - 1].payload, { a: 2 });
      const a2 = find({ a: 2 })!.job;
      assert.equal(a2.queueName, "q1");
      assert.equal(a2.priority, 3);
      assert.equal(a2.maxAttempts, 4);
      assert.deepEqual(a2.flags, ["x"]);
      assert.equal(a2.attempts, 1);
      assert.equal(find({ a: 5 })!.job.key, "k5");
      assert.equal(find({ v: 2 })!.job.key, "kr");
      assert.equal(find({ v: 1 })!.job.key, "kd");
      assert.equal(find({ a: 1 })!.job.maxAttempts, 25);

      // What must not run yet: the future jobs (plain and preserve_run_at) and the flagged one.
      const left = await tableJobs(sql, schema);
      assert.deepEqual(left.map((j) => [j.task_identifier, j.payload, j.key]), [
        ["plain", { a: 3 }, null],
        ["plain", { a: 6 }, null],
        ["keyed", { v: 2 }, "kp"],
        ["batch", [3], "kb"],
      ]);
      assert.ok(left.every((j) => j.locked_by === null && j.locked_at === null));
      assert.deepEqual(left.map((j) => j.attempts), [0, 0, 0, 1]);
      assert.equal(left[2].run_at.getTime(), future.getTime());
      // Only the failed item is kept, as graphile-worker does; the last_error text is Spool's.
      assert.equal(left[3].last_error, "1 of 3 items failed: [2] no 3");

      // graphile-worker keeps working on the schema Spool upgraded: the runner that was up
      // during the migration, and a fresh migrate (which warns about the newer revision).
      await gw.addJob("gw_only", { after: "spool" });
      await waitFor("graphile-worker to run a job after Spool's migration", () => gwSeen.length);
      assert.deepEqual(gwSeen, [{ after: "spool" }]);
      const highest = after[after.length - 1].id;
      await gwRunMigrations({ connectionString: db.url, schema, logger: log.logger });
      assert.ok(log.warnings().some((w) => w.includes(`schema revision ${highest}`)));
      assert.deepEqual(await migrationRows(sql, schema), after);
      assert.deepEqual(log.errors(), []);
      const errors = spoolLog.lines.filter((l) => l.level === "error").map((l) => l.message);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.match(errors[0], /^Job \d+ \(batch\) failed permanently after 1 attempts$/);
    } finally {
      await worker.stop();
      await running;
      await runner.stop();
      await gw.release();
    }
  });
});
