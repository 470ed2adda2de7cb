import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import { resolveWorkerOptions } from "../src/worker/options.ts";
import type { WorkerOptions } from "../src/worker/types.ts";
import { defineTask } from "../src/task/define_task.ts";
import { extension } from "../src/task/extension.ts";
import { SpoolError, ValidationError } from "../src/errors.ts";
import { silentLogger } from "../src/logger.ts";

const task = defineTask({ identifier: "opt_task", payload: z.unknown(), run: () => {} });
const base: WorkerOptions = { tasks: [task], logger: silentLogger, noHandleSignals: true };

async function expectField(extra: Record<string, unknown>, field: string, pattern?: RegExp) {
  await assert.rejects(
    () => createWorker({ ...base, ...extra } as WorkerOptions),
    (e: unknown) => {
      assert.ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
      assert.equal(e.field, field, `field for ${JSON.stringify(Object.keys(extra))}: ${e.message}`);
      assert.equal(e.code, "INVALID_OPTION");
      if (pattern) assert.match(e.message, pattern);
      return true;
    },
  );
}

test("createWorker() applies the documented defaults", () => {
  const o = resolveWorkerOptions({ tasks: [task] });
  assert.equal(o.concurrency, 1);
  assert.equal(o.pollInterval, 2000);
  assert.equal(o.schema, "graphile_worker");
  assert.equal(o.useLocalTime, false);
  assert.equal(o.noHandleSignals, false);
  assert.equal(o.gracePeriod, 5000);
  assert.equal(o.interruptedJobRetryDelay, 30_000);
  assert.equal(o.maxPoolSize, 10);
  assert.equal(o.forbiddenFlags, undefined);
  assert.equal(o.backoff, undefined);
  assert.deepEqual(o.extensions, []);
  assert.equal(typeof o.logger.info, "function");
});

test("createWorker() rejects each bad option with a ValidationError naming the field", async () => {
  await expectField({ concurrency: 0 }, "concurrency", /integer of 1 or more/);
  await expectField({ concurrency: 1.5 }, "concurrency");
  await expectField({ concurrency: "4" }, "concurrency");
  await expectField({ pollInterval: -1 }, "pollInterval");
  await expectField({ pollInterval: 0 }, "pollInterval");
  await expectField({ pollInterval: "fast" }, "pollInterval");
  await expectField({ schema: "" }, "schema");
  await expectField({ schema: 5 }, "schema");
  await expectField({ schema: "x".repeat(64) }, "schema", /63 bytes/);
  await expectField({ useLocalTime: "yes" }, "useLocalTime");
  await expectField({ forbiddenFlags: "red" }, "forbiddenFlags");
  await expectField({ forbiddenFlags: [1, 2] }, "forbiddenFlags");
  await expectField({ logger: () => {} }, "logger");
  await expectField({ noHandleSignals: 1 }, "noHandleSignals");
  await expectField({ gracePeriod: -5 }, "gracePeriod");
  await expectField({ gracePeriod: 1.5 }, "gracePeriod");
  await expectField({ interruptedJobRetryDelay: "soon" }, "interruptedJobRetryDelay");
  await expectField({ maxPoolSize: 0 }, "maxPoolSize");
  await expectField({ database: 42 }, "database");
  await expectField({ database: "mysql://localhost/x" }, "database", /postgres/);
  await expectField({ driver: {} }, "driver");
  await expectField({ extensions: [{}] }, "extensions[0]");
  await expectField({ backoff: 5 }, "backoff");
  await expectField({ tasks: undefined }, "tasks", /required/);
  await expectField({ tasks: "opt_task" }, "tasks");
  await expectField({ tasks: [task, { identifier: "x" }] }, "tasks[1]", /defineTask/);
});

test("createWorker() names unknown option keys", async () => {
  await assert.rejects(
    () => createWorker({ ...base, concurency: 3, pollIntervall: 5 } as unknown as WorkerOptions),
    (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.field, "options");
      assert.match(e.message, /"concurency"/);
      assert.match(e.message, /"pollIntervall"/);
      return true;
    },
  );
});

test("createWorker() rejects two tasks with the same identifier", async () => {
  const twin = defineTask({ identifier: "opt_task", payload: z.unknown(), run: () => {} });
  await assert.rejects(
    () => createWorker({ ...base, tasks: [task, twin] }),
    (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.field, "tasks[1].identifier");
      assert.match(e.message, /"opt_task" is used by two tasks/);
      return true;
    },
  );
});

test("createWorker() rejects an extension key provided twice", async () => {
  const Key = extension<number>("counter");
  await assert.rejects(
    () => createWorker({ ...base, extensions: [Key.provide(1), Key.provide(2)] }),
    (e: unknown) => e instanceof SpoolError && /provided twice/.test(e.message),
  );
});

test("createWorker() with valid options builds a worker that can be stopped without running", async () => {
  const worker = await createWorker({
    ...base,
    database: databaseUrl(),
    concurrency: 3,
    pollInterval: 500,
    gracePeriod: 0,
    interruptedJobRetryDelay: 0,
    maxPoolSize: 2,
    forbiddenFlags: () => ["x"],
    backoff: (n) => n,
    useLocalTime: true,
  });
  assert.match(worker.id, /^spool_worker_[0-9a-f]{18}$/);
  assert.equal(typeof worker.utils.addJob, "function");
  await worker.stop();
  await worker.stop(); // idempotent
  await assert.rejects(() => worker.run(), /stopped/);
});
