/** Plugins: state across jobs, misbehaving hooks (throw, hang), and bad plugins at creation. */
import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import type { WorkerOptions } from "../src/worker/types.ts";
import { defineTask } from "../src/task/define_task.ts";
import type { Logger } from "../src/logger.ts";
import { silentLogger } from "../src/logger.ts";
import { ValidationError } from "../src/errors.ts";
import { createWorkerUtils } from "../src/utils/worker_utils.ts";
import { createHookRegistry } from "../src/hooks/plugins.ts";
import type { Plugin } from "../src/hooks/types.ts";

let db: TestDb;

/** A logger that keeps error lines. */
function capture(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { ...silentLogger, error: (m: string) => void errors.push(m), errors };
}

function options(extra: Partial<WorkerOptions> & Pick<WorkerOptions, "tasks">): WorkerOptions {
  return {
    database: databaseUrl(),
    maxPoolSize: 2,
    schema: db.schema,
    logger: silentLogger,
    noHandleSignals: true,
    recovery: { enabled: false },
    ...extra,
  };
}

const ran: number[] = [];
const work = defineTask({
  identifier: "plugins_work",
  payload: z.object({ n: z.number(), throws: z.boolean().optional() }),
  run(p) {
    ran.push(p.n);
    if (p.throws) throw new Error(`job ${p.n} broke`);
  },
});

/** The seeds' MetricsPlugin: counters kept in the plugin, printed at shutdown. */
function metricsPlugin() {
  const counts = { started: 0, completed: 0, failed: 0, shutdowns: 0 };
  const plugin: Plugin = {
    name: "metrics",
    setup(api) {
      api.on("job:start", () => void counts.started++);
      api.on("job:complete", () => void counts.completed++);
      api.on("job:fail", () => void counts.failed++);
      api.on("worker:shutdown", async () => {
        await new Promise((r) => setTimeout(r, 20)); // awaited (up to hookTimeout)
        counts.shutdowns++;
      });
    },
  };
  return { plugin, counts };
}

async function clear(): Promise<void> {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  ran.length = 0;
}

test("hooks plugins: setup", async () => {
  db = await setupDb("hooks_plugins");
});

test("a plugin keeps state across jobs and runOnce calls", async () => {
  await clear();
  const metrics = metricsPlugin();
  for (let n = 0; n < 4; n++) await db.addJob("plugins_work", { n });
  await db.addJob("plugins_work", { n: 9, throws: true }, { maxAttempts: 1 });
  const worker = await createWorker(
    options({ tasks: [work], plugins: [metrics.plugin], concurrency: 2 }),
  );
  await worker.runOnce();
  await db.addJob("plugins_work", { n: 5 });
  await worker.runOnce();
  assert.equal(metrics.counts.shutdowns, 0);
  await worker.stop();
  assert.deepEqual(metrics.counts, { started: 6, completed: 5, failed: 1, shutdowns: 1 });
});

test("a throwing or rejecting observer is logged and changes nothing", async () => {
  await clear();
  const logger = capture();
  const bad: Plugin = {
    name: "bad_observer",
    hooks: {
      "job:start": () => {
        throw new Error("observer exploded");
      },
      "job:complete": () => Promise.reject(new Error("async observer exploded")),
    },
  };
  const metrics = metricsPlugin();
  await db.addJob("plugins_work", { n: 1 });
  await db.addJob("plugins_work", { n: 2 });
  const worker = await createWorker(
    options({ tasks: [work], plugins: [bad, metrics.plugin], logger }),
  );
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(ran.sort(), [1, 2]);
  assert.equal((await db.jobs()).length, 0, "both jobs completed");
  assert.equal(metrics.counts.completed, 2, "later plugins still see the events");
  assert.equal(logger.errors.filter((e) => /bad_observer.*threw/.test(e)).length, 4);
});

test("a throwing beforeJobRun interceptor fails the job with its error", async () => {
  await clear();
  const logger = capture();
  const bad: Plugin = {
    name: "bad_gate",
    hooks: {
      beforeJobRun: () => {
        throw new Error("gate exploded");
      },
    },
  };
  await db.addJob("plugins_work", { n: 1 }, { maxAttempts: 3 });
  const worker = await createWorker(options({ tasks: [work], plugins: [bad], logger }));
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(ran, []);
  const [row] = await db.jobs();
  assert.equal(row.attempts, 1);
  assert.match(row.last_error ?? "", /beforeJobRun hook of plugin "bad_gate" threw: gate exploded/);
  assert.equal(row.locked_by, null);
  assert.ok(logger.errors.some((e) => /bad_gate/.test(e)));
});

test("a hanging beforeJobRun interceptor times out after hookTimeout and fails the job", async () => {
  await clear();
  const hang: Plugin = {
    name: "hang",
    hooks: { beforeJobRun: () => new Promise(() => {}) },
  };
  await db.addJob("plugins_work", { n: 1 }, { maxAttempts: 3 });
  const worker = await createWorker(
    options({ tasks: [work], plugins: [hang], hookTimeout: 150 }),
  );
  const t0 = Date.now();
  await worker.runOnce();
  const elapsed = Date.now() - t0;
  await worker.stop();
  assert.deepEqual(ran, []);
  assert.ok(elapsed >= 140, `runOnce waited for the timeout (${elapsed} ms)`);
  const [row] = await db.jobs();
  assert.match(row.last_error ?? "", /plugin "hang" did not finish within 150 ms/);
});

test("interceptors chain in plugin order: the first refusal wins", async () => {
  await clear();
  const seen: string[] = [];
  const a: Plugin = {
    name: "a",
    hooks: { beforeJobRun: () => void seen.push("a") },
  };
  const b: Plugin = {
    name: "b",
    setup(api) {
      api.on("beforeJobRun", async () => {
        seen.push("b");
        await Promise.resolve();
        return { skip: true };
      });
    },
  };
  const c: Plugin = { name: "c", hooks: { beforeJobRun: () => void seen.push("c") } };
  await db.addJob("plugins_work", { n: 1 });
  const worker = await createWorker(options({ tasks: [work], plugins: [a, b, c] }));
  await worker.runOnce();
  await worker.stop();
  assert.deepEqual(seen, ["a", "b"]);
  assert.deepEqual(ran, []);
  assert.equal((await db.jobs()).length, 0);
});

test("bad plugins are a ValidationError at creation", async () => {
  const good: Plugin = { name: "x", hooks: { "job:start": () => {} } };
  const cases: Array<[unknown, string, RegExp]> = [
    [[{ hooks: {} }], "plugins[0].name", /non-empty string/],
    [[{ name: "", setup() {} }], "plugins[0].name", /non-empty string/],
    [[good, { name: "x", setup() {} }], "plugins[1].name", /already the name of plugins\[0\]/],
    [[{ name: "y" }], "plugins[0]", /setup\(api\) function or hooks/],
    [[{ name: "y", hooks: { "job:started": () => {} } }], "plugins[0].hooks", /unknown hook/],
    [[{ name: "y", hooks: { "job:start": 1 } }], "plugins[0].hooks", /must be a function/],
    [[{ name: "y", setup: async () => {} }], "plugins[0].setup", /synchronous/],
    [
      [{
        name: "y",
        setup: () => {
          throw new Error("nope");
        },
      }],
      "plugins[0].setup",
      /nope/,
    ],
    [
      [{
        name: "y",
        setup: (api: { on: (n: string, f: unknown) => void }) => api.on("zzz", () => {}),
      }],
      "plugins[0].setup",
      /unknown hook "zzz"/,
    ],
    ["metrics", "plugins", /array/],
    [[null], "plugins[0]", /plugin object/],
  ];
  for (const [plugins, field, message] of cases) {
    await assert.rejects(
      createWorker(options({ tasks: [work], plugins: plugins as Plugin[] })),
      (e: unknown) => e instanceof ValidationError && e.field === field && message.test(e.message),
      `createWorker with ${JSON.stringify(plugins)}`,
    );
    assert.throws(
      () => createWorkerUtils({ database: databaseUrl(), plugins: plugins as Plugin[] }),
      (e: unknown) => e instanceof ValidationError && e.field === field && message.test(e.message),
      `createWorkerUtils with ${JSON.stringify(plugins)}`,
    );
  }
  await assert.rejects(
    createWorker(options({ tasks: [work], hookTimeout: 0 })),
    (e: unknown) => e instanceof ValidationError && e.field === "hookTimeout",
  );
  assert.throws(
    () => createHookRegistry({ hookTimeout: 1.5 }),
    (e: unknown) => e instanceof ValidationError && e.field === "hookTimeout",
  );
});

test("no plugins: the registry is empty and reports no hooks", () => {
  const registry = createHookRegistry({});
  assert.equal(registry.empty, true);
  assert.equal(registry.has("job:start"), false);
  const one = createHookRegistry({ plugins: [{ name: "p", hooks: { "job:start": () => {} } }] });
  assert.equal(one.has("job:start"), true);
  assert.equal(one.has("job:complete"), false);
  assert.deepEqual(one.plugins, ["p"]);
});

test("hooks plugins: teardown", async () => {
  await db.close();
});
