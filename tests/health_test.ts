/**
 * `Worker.status()` and `healthHandler(worker)` in process: the state, LISTEN
 * and heartbeat a probe sees before, during and after `run()`.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { setupDb, type TestDb, waitFor } from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import { defineTask } from "../src/task/define_task.ts";
import { silentLogger } from "../src/logger.ts";
import { healthHandler } from "../src/cli/health.ts";

let db: TestDb;
const noop = defineTask({ identifier: "noop", payload: z.object({}), run() {} });

test("health: setup", async () => {
  db = await setupDb("health");
});

test("health: status() and /readyz follow the worker from created to running to stopped", async () => {
  const driver = db.driver(4);
  const worker = await createWorker({
    driver,
    schema: db.schema,
    tasks: [noop],
    logger: silentLogger,
    noHandleSignals: true,
    recovery: { heartbeatInterval: 200, staleThreshold: 5000 },
  });
  const handler = healthHandler(worker);
  const readyz = async () => {
    const res = await handler(new Request("http://x/readyz"));
    return { status: res.status, body: await res.json() };
  };
  try {
    assert.deepEqual(worker.status(), {
      state: "ready",
      listening: null,
      lastHeartbeatAt: null,
      heartbeatInterval: 200,
    });
    const before = await readyz();
    assert.equal(before.status, 503);
    assert.equal(before.body.checks.worker.detail, "not started");
    assert.equal(before.body.checks.database.ok, true);

    const running = worker.run();
    const ready = await waitFor("/readyz 200", async () => {
      const r = await readyz();
      return r.status === 200 ? r : undefined;
    });
    assert.equal(ready.body.status, "ok");
    const status = worker.status();
    assert.equal(status.state, "running");
    assert.equal(status.listening, true);
    assert.ok(status.lastHeartbeatAt && Date.now() - status.lastHeartbeatAt.getTime() < 5000);
    const first = status.lastHeartbeatAt.getTime();
    await waitFor(
      "a renewed heartbeat",
      () => (worker.status().lastHeartbeatAt?.getTime() ?? 0) > first,
    );

    assert.equal((await handler(new Request("http://x/healthz"))).status, 200);
    assert.equal((await handler(new Request("http://x/readyz", { method: "POST" }))).status, 405);
    assert.equal((await handler(new Request("http://x/other"))).status, 404);

    await worker.stop();
    await running;
    assert.equal(worker.status().state, "stopped");
    assert.equal(worker.status().listening, null, "unsubscribed");
    const after = await readyz();
    assert.equal(after.status, 503);
    assert.equal(after.body.checks.worker.detail, "stopped");
  } finally {
    await worker.stop();
    await driver.close();
  }
});

test("health: teardown", async () => {
  await db.close();
});
