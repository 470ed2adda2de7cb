import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { setupDb, type TestDb, waitFor } from "./fixtures/worker_helpers.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import { defineTask } from "../src/task/define_task.ts";
import { cron } from "../src/cron/builder.ts";
import { ValidationError } from "../src/errors.ts";
import { silentLogger } from "../src/logger.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";

let db: TestDb;

test("cron worker: setup", async () => {
  db = await setupDb("cron_worker");
});

test("a worker schedules its crontab and cron items and runs the jobs they add", async () => {
  const ran: { task: string; payload: unknown }[] = [];
  const tick = defineTask({
    identifier: "tick",
    payload: z.object({ _cron: z.object({ ts: z.string(), backfilled: z.boolean() }) }),
    run: (payload) => void ran.push({ task: "tick", payload }),
  });
  const report = defineTask({
    identifier: "report",
    payload: z.object({ kind: z.string() }).passthrough(),
    run: (payload) => void ran.push({ task: "report", payload }),
  });
  // Real time, so the database's now() and the fake clock agree; 5 s before a minute boundary.
  const minute = Math.ceil((Date.now() + 5_000) / 60_000) * 60_000;
  const clock = new FakeClock(minute - 5_000);
  const worker = await createWorker({
    driver: db.driver(),
    schema: db.schema,
    tasks: [tick, report],
    crontab: "* * * * * tick",
    cron: [cron.everyMinute(report).id("report_every_minute").payload({ kind: "daily" })],
    logger: silentLogger,
    noHandleSignals: true,
    useLocalTime: true,
    pollInterval: 50,
    clock,
  });
  const running = worker.run();
  try {
    // Nothing is due before the boundary.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(ran.length, 0);
    await clock.tickTo(minute + 10);
    await waitFor("both cron jobs ran", () => ran.length >= 2, 10_000);
    const byTask = Object.fromEntries(ran.map((r) => [r.task, r.payload]));
    const iso = new Date(minute).toISOString();
    assert.deepEqual(byTask.tick, { _cron: { ts: iso, backfilled: false } });
    assert.deepEqual(byTask.report, { kind: "daily", _cron: { ts: iso, backfilled: false } });
    const known = await db.sql.unsafe(
      `select identifier, last_execution from ${db.s}._private_known_crontabs order by identifier`,
    );
    assert.deepEqual(known.map((k) => k.identifier), ["report_every_minute", "tick"]);
    for (const k of known) assert.equal((k.last_execution as Date).getTime(), minute);
  } finally {
    await worker.stop();
    await running;
  }
});

test("bad cron options are rejected by createWorker with the field named", async () => {
  const noop = defineTask({ identifier: "noop", payload: z.unknown(), run: () => {} });
  const driver = db.driver();
  try {
    await assert.rejects(
      createWorker({ driver, schema: db.schema, tasks: [noop], crontab: "61 * * * * noop" }),
      (e: unknown) => e instanceof ValidationError && /line 1/.test(e.message),
    );
    await assert.rejects(
      createWorker({
        driver,
        schema: db.schema,
        tasks: [noop],
        crontab: "* * * * * noop",
        cron: [cron.everyMinute(noop)],
      }),
      (e: unknown) => e instanceof ValidationError && /duplicate cron identifier/.test(e.message),
    );
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      createWorker({ driver, schema: db.schema, tasks: [noop], cron: [42 as any] }),
      (e: unknown) => e instanceof ValidationError && e.field === "cron[0]",
    );
  } finally {
    await driver.close();
  }
});

test("cron worker: teardown", async () => {
  await db.close();
});
