import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import type { WorkerOptions } from "../src/worker/types.ts";
import { defineTask } from "../src/task/define_task.ts";
import { extension } from "../src/task/extension.ts";
import { silentLogger } from "../src/logger.ts";
import type { JobInfo } from "../src/task/types.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";

let db: TestDb;

function options(extra: Partial<WorkerOptions> & Pick<WorkerOptions, "tasks">): WorkerOptions {
  return {
    database: databaseUrl(),
    maxPoolSize: 3,
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

test("worker runOnce: setup", async () => {
  db = await setupDb("worker_run_once");
});

test("runOnce() runs every job runnable now, leaves future jobs, then resolves", async () => {
  await clear();
  const seen: number[] = [];
  const task = defineTask({
    identifier: "count",
    payload: z.object({ n: z.number() }),
    run: (p) => void seen.push(p.n),
  });
  for (let n = 0; n < 25; n++) await db.addJob("count", { n });
  const futureId = await db.addJob("count", { n: 999 }, { runAt: new Date(Date.now() + 3600_000) });
  const worker = await createWorker(options({ tasks: [task], concurrency: 4 }));
  await worker.runOnce();
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 25 }, (_, i) => i));
  const rows = await db.jobs();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].id, futureId);
  assert.equal(rows[0].attempts, 0);
  assert.equal(rows[0].locked_by, null);
  // A second runOnce finds nothing and still returns.
  await worker.runOnce();
  assert.equal(seen.length, 25);
  await worker.stop();
  await assert.rejects(() => worker.runOnce(), /stopped/);
});

test("runOnce() also runs jobs that become runnable during it (queue successors, jobs added by tasks)", async () => {
  await clear();
  const order: string[] = [];
  const chain = defineTask({
    identifier: "chain",
    payload: z.object({ step: z.number() }),
    async run(p, ctx) {
      order.push(`chain${p.step}`);
      if (p.step < 3) await ctx.addJob(chain, { step: p.step + 1 });
    },
  });
  const serial = defineTask({
    identifier: "serial",
    payload: z.object({ i: z.number() }),
    run: (p) => void order.push(`serial${p.i}`),
  });
  await db.addJob("chain", { step: 1 });
  for (let i = 0; i < 3; i++) {
    await db.addJob("serial", { i }, { queueName: "q1", runAt: new Date(Date.now() - 10_000 + i) });
  }
  const worker = await createWorker(options({ tasks: [chain, serial], concurrency: 3 }));
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(order.filter((x) => x.startsWith("chain")), ["chain1", "chain2", "chain3"]);
  assert.deepEqual(order.filter((x) => x.startsWith("serial")), ["serial0", "serial1", "serial2"]);
  assert.equal((await db.jobs()).length, 0);
});

test("jobs run lowest priority first, then earliest run_at (concurrency 1)", async () => {
  await clear();
  const order: string[] = [];
  const task = defineTask({
    identifier: "ordered",
    payload: z.object({ name: z.string() }),
    run: (p) => void order.push(p.name),
  });
  const t = Date.now() - 60_000;
  await db.addJob("ordered", { name: "p0-late" }, { priority: 0, runAt: new Date(t + 3000) });
  await db.addJob("ordered", { name: "p5" }, { priority: 5, runAt: new Date(t) });
  await db.addJob("ordered", { name: "p0-early" }, { priority: 0, runAt: new Date(t + 1000) });
  await db.addJob("ordered", { name: "p-10" }, { priority: -10, runAt: new Date(t + 5000) });
  await db.addJob("ordered", { name: "p0-middle" }, { priority: 0, runAt: new Date(t + 2000) });
  const worker = await createWorker(options({ tasks: [task], concurrency: 1 }));
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(order, ["p-10", "p0-early", "p0-middle", "p0-late", "p5"]);
});

test("jobs added through SQL add_job run like jobs added from code", async () => {
  await clear();
  const seen = new Map<string, { payload: unknown; job: JobInfo }>();
  const task = defineTask({
    identifier: "mail",
    payload: z.object({ to: z.string() }),
    run: (p, ctx) => void seen.set(p.to, { payload: p, job: ctx.job }),
  });
  const sqlId = await db.addJob("mail", { to: "sql" }, {
    queueName: "mails",
    priority: 3,
    maxAttempts: 7,
    jobKey: "k-sql",
    flags: ["a", "b"],
  });
  const worker = await createWorker(options({ tasks: [task] }));
  const codeJob = await worker.utils.addJob(task, { to: "code" }, {
    queueName: "mails",
    priority: 3,
    maxAttempts: 7,
    jobKey: "k-code",
    flags: ["a", "b"],
  });
  await worker.runOnce();
  await worker.stop();
  const fromSql = seen.get("sql")!;
  const fromCode = seen.get("code")!;
  assert.deepEqual(fromSql.payload, { to: "sql" });
  assert.deepEqual(fromCode.payload, { to: "code" });
  assert.equal(fromSql.job.id, sqlId);
  assert.equal(fromCode.job.id, codeJob.id);
  for (const j of [fromSql.job, fromCode.job]) {
    assert.equal(j.identifier, "mail");
    assert.equal(j.queueName, "mails");
    assert.equal(j.priority, 3);
    assert.equal(j.maxAttempts, 7);
    assert.equal(j.attempts, 1);
    assert.deepEqual([...j.flags].sort(), ["a", "b"]);
    assert.ok(j.runAt instanceof Date && j.createdAt instanceof Date);
  }
  assert.equal(fromSql.job.key, "k-sql");
  assert.equal(fromCode.job.key, "k-code");
  assert.equal((await db.jobs()).length, 0);
});

test("jobs whose identifier the worker does not know are never fetched", async () => {
  await clear();
  let ran = 0;
  const task = defineTask({ identifier: "known", payload: z.unknown(), run: () => void ran++ });
  const otherId = await db.addJob("unknown_to_worker", { x: 1 });
  await db.addJob("known", {});
  const worker = await createWorker(options({ tasks: [task], concurrency: 2 }));
  await worker.runOnce();
  await worker.stop();
  assert.equal(ran, 1);
  const rows = await db.jobs();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].id, otherId);
  assert.equal(rows[0].attempts, 0);
  assert.equal(rows[0].locked_by, null);
  assert.equal(rows[0].last_error, null);
});

test("forbiddenFlags as a list: jobs with any of those flags are skipped", async () => {
  await clear();
  const ran: string[] = [];
  const task = defineTask({
    identifier: "flagged",
    payload: z.object({ name: z.string() }),
    run: (p) => void ran.push(p.name),
  });
  await db.addJob("flagged", { name: "none" });
  await db.addJob("flagged", { name: "red" }, { flags: ["red"] });
  await db.addJob("flagged", { name: "blue" }, { flags: ["blue"] });
  await db.addJob("flagged", { name: "green+red" }, { flags: ["green", "red"] });
  await db.addJob("flagged", { name: "green" }, { flags: ["green"] });
  const worker = await createWorker(options({
    tasks: [task],
    concurrency: 2,
    forbiddenFlags: ["red", "blue"],
  }));
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(ran.sort(), ["green", "none"]);
  const left = (await db.jobs()).map((r) => (r.payload as { name: string }).name).sort();
  assert.deepEqual(left, ["blue", "green+red", "red"]);
  assert.ok((await db.jobs()).every((r) => r.attempts === 0 && r.locked_by === null));
});

test("forbiddenFlags as a function is asked before every fetch", async () => {
  await clear();
  const ran: string[] = [];
  let calls = 0;
  let forbidden: string[] = ["slow"];
  const task = defineTask({
    identifier: "flagged_fn",
    payload: z.object({ name: z.string() }),
    run(p) {
      ran.push(p.name);
      forbidden = []; // from now on nothing is forbidden
    },
  });
  await db.addJob("flagged_fn", { name: "slow" }, { flags: ["slow"], priority: -5 });
  await db.addJob("flagged_fn", { name: "plain" });
  const worker = await createWorker(options({
    tasks: [task],
    concurrency: 1,
    forbiddenFlags: async () => {
      calls++;
      await Promise.resolve();
      return forbidden;
    },
  }));
  await worker.runOnce();
  await worker.stop();
  // First fetch forbids "slow" (so "plain" runs despite its lower precedence); the next one allows it.
  assert.deepEqual(ran, ["plain", "slow"]);
  assert.ok(calls >= 2, `forbiddenFlags called ${calls} times`);
  assert.equal((await db.jobs()).length, 0);
});

test("a payload failing the task's zod schema fails the job with the zod message", async () => {
  await clear();
  let ran = 0;
  const task = defineTask({
    identifier: "typed",
    payload: z.object({ email: z.string(), count: z.number().int() }),
    run: () => void ran++,
  });
  const id = await db.addJob("typed", { email: 42 });
  const worker = await createWorker(options({ tasks: [task] }));
  await worker.runOnce();
  await worker.stop();
  assert.equal(ran, 0);
  const [row] = await db.jobs();
  assert.equal(row.id, id);
  assert.equal(row.attempts, 1);
  assert.equal(row.locked_by, null);
  assert.match(row.last_error ?? "", /Invalid payload for task "typed"/);
  assert.match(row.last_error ?? "", /email/);
  assert.match(row.last_error ?? "", /expected string/);
  assert.match(row.last_error ?? "", /count/);
  assert.ok(row.run_at.getTime() > Date.now(), "retry is scheduled in the future");
});

test("TaskContext: job info, scoped logger, ext(), addJob/addRawJob, query and transaction", async () => {
  await clear();
  const Config = extension<{ greeting: string }>("config");
  const lines: Array<{ message: string; meta?: Record<string, unknown> }> = [];
  const logger = {
    ...silentLogger,
    info: (message: string, meta?: Record<string, unknown>) => void lines.push({ message, meta }),
  };
  const results: Record<string, unknown> = {};
  const child = defineTask({
    identifier: "ctx_child",
    payload: z.object({ from: z.string() }),
    run: (p) => void (results[`child:${p.from}`] = true),
  });
  const parent = defineTask({
    identifier: "ctx_parent",
    payload: z.object({}),
    async run(_p, ctx) {
      results.greeting = ctx.ext(Config).greeting;
      results.aborted = ctx.signal.aborted;
      ctx.logger.info("hello from task");
      const { rows } = await ctx.query<{ n: number }>("select 41 + $1::int as n", [1]);
      results.query = rows[0].n;
      results.tx = await ctx.transaction(async (tx) => {
        const r = await tx.query<{ ok: boolean }>("select true as ok");
        return r.rows[0].ok;
      });
      await ctx.addJob(child, { from: "typed" });
      await ctx.addRawJob("ctx_child", { from: "raw" });
      await ctx.addJobs(child, [{ payload: { from: "many1" } }, { payload: { from: "many2" } }]);
      await ctx.addRawJobs([{ identifier: "ctx_child", payload: { from: "rawmany" } }]);
      results.missingExt = (() => {
        try {
          ctx.ext(extension<number>("nope"));
          return "no error";
        } catch (e) {
          return (e as Error).message;
        }
      })();
    },
  });
  const parentId = await db.addJob("ctx_parent", {});
  const worker = await createWorker(options({
    tasks: [parent, child],
    logger,
    extensions: [Config.provide({ greeting: "hi" })],
  }));
  await worker.runOnce();
  await worker.stop();
  assert.equal(results.greeting, "hi");
  assert.equal(results.aborted, false);
  assert.equal(results.query, 42);
  assert.equal(results.tx, true);
  for (const from of ["typed", "raw", "many1", "many2", "rawmany"]) {
    assert.equal(results[`child:${from}`], true, from);
  }
  assert.match(String(results.missingExt), /"nope" was not provided/);
  const line = lines.find((l) => l.message === "hello from task");
  assert.ok(line, "task log line recorded");
  assert.equal(line.meta?.jobId, parentId);
  assert.equal(line.meta?.task, "ctx_parent");
  assert.equal(line.meta?.workerId, worker.id);
  assert.equal((await db.jobs()).length, 0);
});

test("useLocalTime: run_at is compared with the worker's clock, not the database's", async () => {
  await clear();
  const ran: string[] = [];
  const task = defineTask({
    identifier: "local_time",
    payload: z.object({ v: z.string() }),
    run: (p) => void ran.push(p.v),
  });
  await db.addJob("local_time", { v: "in 30 min" }, { runAt: new Date(Date.now() + 1800_000) });
  await db.addJob("local_time", { v: "in 2 h" }, { runAt: new Date(Date.now() + 7200_000) });
  const dbClock = await createWorker(options({ tasks: [task] }));
  await dbClock.runOnce();
  await dbClock.stop();
  assert.deepEqual(ran, [], "not due by the database's clock");
  const clock = new FakeClock(Date.now() + 3600_000); // this process thinks it is an hour later
  const local = await createWorker(options({ tasks: [task], useLocalTime: true, clock }));
  await local.runOnce();
  await local.stop();
  assert.deepEqual(ran, ["in 30 min"]);
  const [row] = await db.jobs();
  assert.deepEqual(row.payload, { v: "in 2 h" });
  assert.equal(row.locked_by, null);
});

test("worker runOnce: teardown", async () => {
  await db.close();
});
