/** The aroundJobRun interceptor, and the job:added and worker:fetch events. */
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { recordingLogger, setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { workerOptions } from "./fixtures/otel_worker.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import { createWorkerUtils } from "../src/utils/worker_utils.ts";
import { defineTask } from "../src/task/define_task.ts";
import { JobRejectedError } from "../src/hooks/errors.ts";
import type { HookEvents, Plugin, RunWrapper } from "../src/hooks/types.ts";

let db: TestDb;
const store = new AsyncLocalStorage<string>();
const log: string[] = [];
const around = defineTask({
  identifier: "around_task",
  payload: z.object({ fail: z.boolean().optional() }),
  async run(p) {
    await Promise.resolve();
    log.push(`task sees ${store.getStore() ?? "nothing"}`);
    if (p.fail) throw new Error("task failed");
  },
});

function wrapper(name: string, wrap: RunWrapper): Plugin {
  return { name, hooks: { aroundJobRun: wrap } };
}

async function runOne(plugins: Plugin[], payload: object = {}) {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  log.length = 0;
  const logger = recordingLogger();
  const id = await db.addJob("around_task", payload, { maxAttempts: 5 });
  const w = await createWorker(workerOptions(db.schema, { tasks: [around], plugins, logger }));
  await w.runOnce();
  await w.stop();
  const [row] = await db.jobs();
  return { id, row, logger };
}

test("hooks around: setup", async () => {
  db = await setupDb("hooks_around");
});

test("aroundJobRun wraps the task (first plugin outermost); what it sets up is the task's context", async () => {
  const { row } = await runOne([
    wrapper("outer", async (_ctx, run) => {
      log.push("outer in");
      await run();
      log.push("outer out");
    }),
    wrapper("inner", (ctx, run) => {
      log.push(`inner in ${ctx.job.identifier}`);
      return store.run("inner's value", run);
    }),
  ]);
  assert.equal(row, undefined, "the job completed");
  assert.deepEqual(log, [
    "outer in",
    "inner in around_task",
    "task sees inner's value",
    "outer out",
  ]);
});

test("the outcome is the task's: a swallowed failure still fails; a throw after run() is ignored", async () => {
  const swallowed = await runOne([
    wrapper("swallow", async (_ctx, run) => {
      await run().catch(() => {});
    }),
  ], { fail: true });
  assert.equal(swallowed.row.last_error, "task failed");
  const late = await runOne([
    wrapper("late", async (_ctx, run) => {
      await run();
      throw new Error("plugin bug");
    }),
  ]);
  assert.equal(late.row, undefined, "the job completed");
  assert.ok(
    late.logger.lines.some((l) => l.level === "error" && l.message.includes("after run()")),
  );
});

test("a wrapper that throws before run(), or never calls it, fails the attempt (the task does not run)", async () => {
  const threw = await runOne([
    wrapper("thrower", () => {
      throw new Error("no tracer");
    }),
  ]);
  assert.match(
    threw.row.last_error!,
    /aroundJobRun hook of plugin "thrower" threw before calling run\(\): no tracer/,
  );
  assert.equal(threw.row.attempts, 1);
  const idle = await runOne([wrapper("idle", async () => {})]);
  assert.match(idle.row.last_error!, /plugin "idle" returned without calling run\(\)/);
  assert.deepEqual(log, []);
});

test("job:added: ids, payloads and duration of single and bulk adds, the call object, and failures", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const added: HookEvents["job:added"][] = [];
  const calls: object[] = [];
  const plugin: Plugin = {
    name: "added",
    hooks: {
      beforeJobSchedule(ctx) {
        if (ctx.source === "add") calls.push(ctx.call);
        if ((ctx.payload as { refuse?: boolean }).refuse) return { fail: "refused" };
        if ((ctx.payload as { skip?: boolean }).skip) return { skip: true };
        return undefined;
      },
      "job:added": (ev) => void added.push(ev),
    },
  };
  await using utils = createWorkerUtils({
    database: databaseUrl(),
    schema: db.schema,
    plugins: [plugin],
  });
  const one = await utils.addJob(around, {});
  const many = await utils.addRawJobs([
    { identifier: "around_task", payload: { a: 1 } },
    { identifier: "around_task", payload: { skip: true } },
    { identifier: "other_task", payload: { a: 3 } },
  ]);
  await assert.rejects(utils.addRawJob("around_task", { refuse: true }), JobRejectedError);
  assert.deepEqual(added.map((e) => e.method), ["addJob", "addRawJobs", "addRawJob"]);
  assert.deepEqual(added[0].jobs, [{ id: one.id, identifier: "around_task", payload: {} }]);
  assert.deepEqual(added[1].jobs.map((j) => [j.id, j.identifier, j.payload]), [
    [many[0].id, "around_task", { a: 1 }],
    [many[1].id, "other_task", { a: 3 }],
  ]);
  assert.ok(added.every((e) => e.durationMs >= 0));
  assert.equal(added[0].call, calls[0]);
  assert.ok(
    calls[1] === calls[2] && calls[2] === calls[3] && added[1].call === calls[1],
    "one call per bulk add",
  );
  assert.notEqual(calls[0], calls[1]);
  assert.ok(added[2].error instanceof JobRejectedError);
  assert.deepEqual(added[2].jobs, []);
});

test("worker:fetch: requested and fetched counts and a duration, for every fetch", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  for (let i = 0; i < 3; i++) await db.addJob("around_task", {});
  const fetches: HookEvents["worker:fetch"][] = [];
  const plugin: Plugin = {
    name: "fetches",
    hooks: { "worker:fetch": (ev) => void fetches.push(ev) },
  };
  const w = await createWorker(workerOptions(db.schema, { tasks: [around], plugins: [plugin] }));
  await w.runOnce();
  await w.stop();
  assert.equal(fetches.reduce((n, f) => n + f.fetched, 0), 3);
  assert.equal(fetches.at(-1)!.fetched, 0, "runOnce ends on an empty fetch");
  assert.ok(
    fetches.every((f) => f.workerId === w.id && f.requested >= f.fetched && f.durationMs >= 0),
  );
});

test("hooks around: teardown", async () => {
  await db.close();
});
