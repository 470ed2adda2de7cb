/** otelPlugin metrics (counters, histograms with the advised buckets, queue gauges) and cron context. */
import assert from "node:assert/strict";
import { SpanKind } from "@opentelemetry/api";
import { z } from "zod";
import { test } from "./_harness.ts";
import { setupDb, type TestDb, waitFor } from "./fixtures/worker_helpers.ts";
import { counterSum, histogramPoints, testSdk } from "./fixtures/otel_sdk.ts";
import { linkIds, one, workerOptions } from "./fixtures/otel_worker.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import { defineTask } from "../src/task/define_task.ts";
import { otelPlugin } from "../src/otel/mod.ts";
import { createCronScheduler, parseCrontab } from "../src/cron/mod.ts";
import { CronHooks } from "../src/hooks/schedule_hooks.ts";
import { createHookRegistry } from "../src/hooks/plugins.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";
import { silentLogger } from "../src/logger.ts";
import { ValidationError } from "../src/errors.ts";

let db: TestDb;
const ran: number[] = [];
const counted = defineTask({
  identifier: "otel_m",
  payload: z.object({ n: z.number() }),
  run: (p) => void ran.push(p.n),
});
const broken = defineTask({
  identifier: "otel_m_broken",
  payload: z.object({}),
  run() {
    throw new RangeError("out of range");
  },
});
const tasks = [counted, broken];
const ADVISED = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

test("otel metrics: setup", async () => {
  db = await setupDb("otel_metrics");
});

test("after N jobs: sent and consumed counters, process duration histogram, fetch size", async () => {
  const sdk = testSdk();
  const plugin = otelPlugin({
    tracerProvider: sdk.tracerProvider,
    meterProvider: sdk.meterProvider,
  });
  const w = await createWorker(workerOptions(db.schema, { tasks, plugins: [plugin] }));
  const N = 5;
  await w.utils.addJobs(counted, Array.from({ length: N }, (_, n) => ({ payload: { n } })));
  await w.utils.addJob(broken, {}, { maxAttempts: 2 });
  await w.runOnce();
  await waitFor("all outcomes", async () => {
    const m = await sdk.metrics();
    return counterSum(m.get("messaging.client.consumed.messages")) === N + 1;
  });
  await w.stop();
  const m = await sdk.metrics();
  const dest = (d: string) => ({ "messaging.destination.name": d });
  assert.equal(counterSum(m.get("messaging.client.sent.messages"), dest("otel_m")), N);
  assert.equal(counterSum(m.get("messaging.client.sent.messages"), dest("otel_m_broken")), 1);
  assert.equal(counterSum(m.get("messaging.client.consumed.messages"), dest("otel_m")), N);
  const ok = histogramPoints(m.get("messaging.process.duration"), dest("otel_m"));
  assert.equal(ok.length, 1);
  assert.equal(ok[0].value.count, N);
  assert.deepEqual(ok[0].value.buckets.boundaries, ADVISED);
  assert.equal(m.get("messaging.process.duration")?.descriptor.unit, "s");
  const bad = histogramPoints(m.get("messaging.process.duration"), dest("otel_m_broken"));
  assert.equal(bad[0].attributes["error.type"], "RangeError");
  assert.equal(counterSum(m.get("spool.job.failures"), dest("otel_m_broken")), 1);
  assert.equal(counterSum(m.get("spool.job.retries"), dest("otel_m_broken")), 1);
  assert.equal(counterSum(m.get("spool.job.failures"), dest("otel_m")), 0);
  const fetched = histogramPoints(m.get("spool.worker.fetch.jobs"));
  assert.equal(fetched.reduce((s, p) => s + (p.value.sum ?? 0), 0), N + 1);
  const ops = histogramPoints(m.get("messaging.client.operation.duration"));
  const byOp = (name: string) =>
    ops.filter((p) => p.attributes["messaging.operation.name"] === name)
      .reduce((s, p) => s + p.value.count, 0);
  assert.equal(byOp("send"), 2, "one per add call");
  assert.ok(byOp("fetch") >= 2, "every fetch, the empty last one too");
  assert.deepEqual(ran.sort(), [0, 1, 2, 3, 4]);
  await sdk.shutdown();
});

test("queue gauges (opt-in): jobs by state and the oldest ready age, from one query", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const sdk = testSdk();
  const driver = db.driver(1);
  const plugin = otelPlugin({ meterProvider: sdk.meterProvider, queueGauges: { db: driver } });
  // Jobs of a task this worker does not run stay where they are.
  await db.addJob("otel_elsewhere", {}, { runAt: new Date(Date.now() - 60_000) });
  await db.addJob("otel_elsewhere", {});
  await db.addJob("otel_elsewhere", {}, { runAt: new Date(Date.now() + 3_600_000) });
  const w = await createWorker(workerOptions(db.schema, { tasks, plugins: [plugin] }));
  assert.equal((await sdk.metrics()).get("spool.queue.jobs"), undefined, "observed once running");
  await w.runOnce();
  const m = await sdk.metrics();
  const points = m.get("spool.queue.jobs")!.dataPoints;
  const state = (s: string) => points.find((p) => p.attributes["spool.job.state"] === s)?.value;
  assert.equal(state("ready"), 2);
  assert.equal(state("scheduled"), 1);
  assert.equal(state("locked"), 0);
  assert.equal(state("failed"), 0);
  const age = m.get("spool.queue.oldest_ready.age")!.dataPoints[0].value as number;
  assert.ok(age >= 59 && age < 3600, `oldest ready age ${age}`);
  await w.stop();
  await driver.close();
  await sdk.shutdown();
});

test("cron runs carry the scheduler's context: a root create span; the run links to it", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const sdk = testSdk();
  const plugin = otelPlugin({ tracerProvider: sdk.tracerProvider, metrics: false });
  const driver = db.driver(2);
  const start = Date.parse("2020-01-01T00:00:30Z");
  const scheduler = createCronScheduler({
    driver,
    schema: db.schema,
    items: parseCrontab("* * * * * otel_m ?id=otel_every"),
    clock: new FakeClock(start),
    hooks: CronHooks.of(createHookRegistry({ plugins: [plugin] }), silentLogger),
  });
  await scheduler.tick(start);
  assert.equal(await scheduler.tick(start + 30_500), 1);
  await scheduler.stop();
  await driver.close();
  const create = one(sdk.spans(), "create otel_m");
  assert.equal(create.kind, SpanKind.PRODUCER);
  assert.equal(create.parentSpanContext, undefined);
  assert.equal(create.attributes["spool.cron.identifier"], "otel_every");
  assert.equal(create.attributes["spool.cron.ts"], "2020-01-01T00:01:00.000Z");
  const [row] = await db.jobs();
  const payload = row.payload as Record<string, { span_id?: string }>;
  assert.equal(payload._trace.span_id, create.spanContext().spanId);
  assert.ok(payload._cron, "the cron payload is kept");
  const w = await createWorker(workerOptions(db.schema, { tasks, plugins: [plugin] }));
  await w.runOnce();
  await w.stop();
  const process = await waitFor(
    "process span",
    () => sdk.spans().find((s) => s.name === "process otel_m"),
  );
  assert.deepEqual(linkIds(process), [create.spanContext().spanId]);
  await sdk.shutdown();
});

test("bad otelPlugin options are ValidationErrors naming the option", () => {
  const bad: Array<[unknown, string]> = [
    [{ tracerProvider: {} }, "tracerProvider"],
    [{ meterProvider: 1 }, "meterProvider"],
    [{ system: "" }, "system"],
    [{ metrics: "yes" }, "metrics"],
    [{ bulkCreateSpans: 1 }, "bulkCreateSpans"],
    [{ queueGauges: { db: {} } }, "queueGauges.db"],
    [[], "options"],
  ];
  for (const [options, field] of bad) {
    assert.throws(
      () => otelPlugin(options as never),
      (e) => e instanceof ValidationError && e.field === field,
      field,
    );
  }
});

test("otel metrics: teardown", async () => {
  await db.close();
});
