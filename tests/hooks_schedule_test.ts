/** beforeJobSchedule on WorkerUtils' add paths and on cron, plus the cron observer events. */
import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import { defineTask } from "../src/task/define_task.ts";
import { silentLogger } from "../src/logger.ts";
import { ValidationError } from "../src/errors.ts";
import { createWorkerUtils } from "../src/utils/worker_utils.ts";
import { createCronScheduler, parseCrontab } from "../src/cron/mod.ts";
import { createHookRegistry } from "../src/hooks/plugins.ts";
import { CronHooks } from "../src/hooks/schedule_hooks.ts";
import { JobRejectedError, JobSkippedError } from "../src/hooks/errors.ts";
import type { BeforeJobScheduleContext, HookEvents, Plugin } from "../src/hooks/types.ts";

let db: TestDb;

const email = defineTask({
  identifier: "sched_email",
  payload: z.object({ to: z.string(), tag: z.string().optional() }),
  run() {},
});

const seen: BeforeJobScheduleContext[] = [];

/** Skips `skip@…`, refuses `fail@…`, tags everything else and bumps its priority. */
const policy: Plugin = {
  name: "policy",
  hooks: {
    beforeJobSchedule(ctx) {
      seen.push(ctx);
      const p = ctx.payload as { to?: string; who?: string };
      const to = p.to ?? p.who ?? "";
      if (to.startsWith("skip@")) return { skip: true };
      if (to.startsWith("fail@")) return { fail: `${to} is blocked` };
      if (to.startsWith("bad@")) return { payload: { to: 42 } };
      return {
        payload: { ...p, tag: `via-${ctx.source}` },
        options: { ...ctx.options, priority: 7 },
      };
    },
  },
};

async function clear(): Promise<void> {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  seen.length = 0;
}

test("hooks schedule: setup", async () => {
  db = await setupDb("hooks_schedule");
});

test("addJob: the interceptor rewrites payload and options", async () => {
  await clear();
  await using utils = createWorkerUtils({
    database: databaseUrl(),
    schema: db.schema,
    plugins: [policy],
  });
  const job = await utils.addJob(email, { to: "ada@example.com" }, { queueName: "mail" });
  assert.deepEqual(job.payload, { to: "ada@example.com", tag: "via-add" });
  assert.equal(job.priority, 7);
  assert.equal(job.queueName, "mail", "options the interceptor kept are kept");
  assert.equal(seen.length, 1);
  assert.equal(seen[0].source, "add");
  assert.equal(seen[0].source === "add" && seen[0].method, "addJob");
  assert.equal(seen[0].identifier, "sched_email");
  const [row] = await db.jobs();
  assert.deepEqual(row.payload, { to: "ada@example.com", tag: "via-add" });
  assert.equal(row.priority, 7);
});

test("addJob: skip throws JobSkippedError, fail throws JobRejectedError; nothing is added", async () => {
  await clear();
  await using utils = createWorkerUtils({
    database: databaseUrl(),
    schema: db.schema,
    plugins: [policy],
  });
  await assert.rejects(
    utils.addJob(email, { to: "skip@example.com" }),
    (e: unknown) => e instanceof JobSkippedError && e.plugin === "policy",
  );
  await assert.rejects(
    utils.addRawJob("sched_email", { to: "fail@example.com" }),
    (e: unknown) =>
      e instanceof JobRejectedError && e.reason === "fail@example.com is blocked" &&
      /refused it/.test(e.message),
  );
  // A rewritten payload is still checked against the task's schema.
  await assert.rejects(
    utils.addJob(email, { to: "bad@example.com" }),
    (e: unknown) => e instanceof ValidationError,
  );
  assert.equal((await db.jobs()).length, 0);
});

test("addJobs: skipped jobs are left out; a refusal adds none", async () => {
  await clear();
  await using utils = createWorkerUtils({
    database: databaseUrl(),
    schema: db.schema,
    plugins: [policy],
  });
  const jobs = await utils.addJobs(email, [
    { payload: { to: "a@example.com" } },
    { payload: { to: "skip@example.com" } },
    { payload: { to: "b@example.com" } },
  ]);
  assert.deepEqual(jobs.map((j) => (j.payload as { to: string }).to), [
    "a@example.com",
    "b@example.com",
  ]);
  await assert.rejects(
    utils.addRawJobs([
      { identifier: "sched_email", payload: { to: "c@example.com" } },
      { identifier: "sched_email", payload: { to: "fail@example.com" } },
    ]),
    JobRejectedError,
  );
  assert.equal((await db.jobs()).length, 2);
});

test("a throwing or hanging schedule interceptor refuses the add", async () => {
  await clear();
  const throwing: Plugin = {
    name: "throwing",
    hooks: {
      beforeJobSchedule: () => {
        throw new Error("schedule hook exploded");
      },
    },
  };
  await using a = createWorkerUtils({
    database: databaseUrl(),
    schema: db.schema,
    plugins: [throwing],
  });
  await assert.rejects(
    a.addJob(email, { to: "x@example.com" }),
    (e: unknown) =>
      e instanceof JobRejectedError && /threw: schedule hook exploded/.test(e.reason) &&
      e.cause instanceof Error,
  );
  const hanging: Plugin = {
    name: "hanging",
    hooks: { beforeJobSchedule: () => new Promise(() => {}) },
  };
  await using b = createWorkerUtils({
    database: databaseUrl(),
    schema: db.schema,
    plugins: [hanging],
    hookTimeout: 100,
  });
  await assert.rejects(
    b.addJob(email, { to: "x@example.com" }),
    (e: unknown) => e instanceof JobRejectedError && /within 100 ms/.test(e.reason),
  );
  assert.equal((await db.jobs()).length, 0);
});

test("the worker's utils, transaction adders and tasks' ctx.addJob go through the interceptor", async () => {
  await clear();
  const spawner = defineTask({
    identifier: "sched_spawner",
    payload: z.object({}),
    async run(_p, ctx) {
      await ctx.addJob(email, { to: "child@example.com" });
    },
  });
  const worker = await createWorker({
    database: databaseUrl(),
    schema: db.schema,
    tasks: [spawner],
    plugins: [policy],
    logger: silentLogger,
    noHandleSignals: true,
    recovery: { enabled: false },
  });
  try {
    await worker.utils.addJob(spawner, {});
    await worker.runOnce();
    await db.sql.begin(async (sql) => {
      const tx = {
        query: (text: string, params?: readonly unknown[]) =>
          sql.unsafe(text, params as never[]).then((rows) => ({ rows: [...rows] })),
      };
      await worker.utils.withTransaction(tx as never).addRawJob("sched_email", {
        to: "tx@example.com",
      });
    });
  } finally {
    await worker.stop();
  }
  const rows = await db.jobs();
  const payloads = rows.map((r) => r.payload as { to: string; tag: string }).sort((x, y) =>
    x.to.localeCompare(y.to)
  );
  assert.deepEqual(payloads, [
    { to: "child@example.com", tag: "via-add" },
    { to: "tx@example.com", tag: "via-add" },
  ]);
  assert.deepEqual(
    seen.map((s) => s.source === "add" ? s.method : s.source),
    ["addJob", "addJob", "addRawJob"],
  );
});

test("cron: the interceptor rewrites or skips runs; cron:tick and cron:scheduled fire", async () => {
  await clear();
  const ticks: HookEvents["cron:tick"][] = [];
  const scheduled: HookEvents["cron:scheduled"][] = [];
  const observer: Plugin = {
    name: "cron_observer",
    hooks: {
      "cron:tick": (ctx) => void ticks.push(ctx),
      "cron:scheduled": (ctx) => void scheduled.push(ctx),
    },
  };
  const registry = createHookRegistry({ plugins: [policy, observer] });
  const driver = db.driver(2);
  try {
    const scheduler = createCronScheduler({
      driver,
      schema: db.schema,
      items: parseCrontab(
        [
          `* * * * * sched_email ?id=ok {who:"ok@example.com"}`,
          `* * * * * sched_email ?id=skipped {who:"skip@example.com"}`,
          `* * * * * sched_email ?id=refused {who:"fail@example.com"}`,
        ].join("\n"),
      ),
      logger: silentLogger,
      hooks: CronHooks.of(registry, silentLogger),
    });
    const ts = Date.parse("2031-01-01T08:00:00Z");
    const added = await scheduler.tick(ts);
    assert.equal(added, 1);
    assert.deepEqual(ticks, [{ ts: new Date(ts), due: ["ok", "skipped", "refused"] }]);
    const cronSeen = seen.filter((s) => s.source === "cron");
    assert.equal(cronSeen.length, 3);
    const first = cronSeen[0];
    assert.ok(first.source === "cron");
    assert.deepEqual(first.cron, { identifier: "ok", ts: new Date(ts), backfilled: false });
    assert.deepEqual(first.options.runAt, new Date(ts));
    assert.deepEqual(first.payload._cron, { ts: new Date(ts).toISOString(), backfilled: false });
    const rows = await db.jobs();
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0].payload, {
      who: "ok@example.com",
      tag: "via-cron",
      _cron: { ts: new Date(ts).toISOString(), backfilled: false },
    });
    assert.equal(rows[0].priority, 7);
    assert.equal(scheduled.length, 1);
    assert.equal(scheduled[0].identifier, "ok");
    assert.equal(scheduled[0].task, "sched_email");
    assert.deepEqual(scheduled[0].payload, rows[0].payload);
  } finally {
    await driver.close();
  }
});

test("hooks schedule: teardown", async () => {
  await db.close();
});
