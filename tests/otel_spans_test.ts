/** otelPlugin spans: producer/consumer kinds, names, attributes, links, `_trace` in payloads. */
import assert from "node:assert/strict";
import { SpanStatusCode } from "@opentelemetry/api";
import { z } from "zod";
import { test } from "./_harness.ts";
import { setupDb, type TestDb, waitFor } from "./fixtures/worker_helpers.ts";
import { testSdk } from "./fixtures/otel_sdk.ts";
import { KIND, linkIds, one, workerOptions } from "./fixtures/otel_worker.ts";
import { createWorker } from "../src/worker/create_worker.ts";
import { defineTask } from "../src/task/define_task.ts";
import { defineBatchTask } from "../src/task/define_batch_task.ts";
import { otelPlugin } from "../src/otel/mod.ts";
import { createHookRegistry } from "../src/hooks/plugins.ts";

let db: TestDb;
const seen: unknown[] = [];
const sdk = testSdk();
const testTracer = sdk.tracerProvider.getTracer("test");

const strict = defineTask({
  identifier: "otel_strict",
  payload: z.object({ n: z.number() }).strict(),
  run(p) {
    seen.push(p);
    testTracer.startSpan("inside the task").end();
  },
});
const flaky = defineTask({
  identifier: "otel_flaky",
  payload: z.object({}).strict(),
  run() {
    throw new TypeError("flaky broke");
  },
});
const items = defineBatchTask({
  identifier: "otel_items",
  item: z.object({ n: z.number() }).strict(),
  run(list) {
    seen.push(...list);
  },
});
// A plain (not batch) task whose payload is an array: every object item carries `_trace`.
const list = defineTask({
  identifier: "otel_list",
  payload: z.array(z.object({ n: z.number() }).strict()),
  run(p) {
    seen.push(p);
  },
});
const tasks = [strict, flaky, items, list];

async function worker() {
  return await createWorker(workerOptions(db.schema, {
    tasks,
    plugins: [otelPlugin({ tracerProvider: sdk.tracerProvider, metrics: false })],
  }));
}

async function reset(): Promise<void> {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  sdk.reset();
  seen.length = 0;
}

test("otel spans: setup", async () => {
  db = await setupDb("otel_spans");
});

test("add → run: send (PRODUCER) and process (CONSUMER) spans, linked; the task's span is a child", async () => {
  await reset();
  const w = await worker();
  const job = await testTracer.startActiveSpan("request", async (span) => {
    try {
      return await w.utils.addJob(strict, { n: 1 });
    } finally {
      span.end();
    }
  });
  await w.runOnce();
  await w.stop();
  const spans = sdk.spans();
  const request = one(spans, "request");
  const send = one(spans, "send otel_strict");
  assert.equal(send.kind, KIND.PRODUCER);
  assert.equal(send.parentSpanContext?.spanId, request.spanContext().spanId);
  assert.equal(send.attributes["messaging.system"], "graphile-worker");
  assert.equal(send.attributes["messaging.operation.type"], "send");
  assert.equal(send.attributes["messaging.operation.name"], "send");
  assert.equal(send.attributes["messaging.destination.name"], "otel_strict");
  assert.equal(send.attributes["messaging.message.id"], job.id);
  // The stored payload carries the send span's context in graphile_worker_rs's shape.
  const sc = send.spanContext();
  assert.deepEqual((job.payload as Record<string, unknown>)._trace, {
    flags: sc.traceFlags,
    trace_id: sc.traceId,
    span_id: sc.spanId,
  });
  const process = await waitFor(
    "process span",
    () => sdk.spans().find((s) => s.name === "process otel_strict"),
  );
  assert.equal(process.kind, KIND.CONSUMER);
  assert.equal(process.parentSpanContext, undefined, "a root span, linked rather than parented");
  assert.deepEqual(linkIds(process), [sc.spanId]);
  assert.equal(process.attributes["messaging.message.id"], job.id);
  assert.equal(process.attributes["messaging.client.id"], w.id);
  assert.equal(process.attributes["messaging.operation.type"], "process");
  assert.equal(process.attributes["spool.job.attempt"], 1);
  assert.equal(process.attributes["spool.job.max_attempts"], 25);
  assert.equal(process.attributes["spool.job.priority"], 0);
  assert.equal(process.status.code, SpanStatusCode.UNSET);
  const inside = one(sdk.spans(), "inside the task");
  assert.equal(inside.parentSpanContext?.spanId, process.spanContext().spanId);
  assert.deepEqual(seen, [{ n: 1 }], "the strict schema passed and run() did not see _trace");
});

test("a failing job: error status with the message, retried, then permanent", async () => {
  await reset();
  const w = await worker();
  await w.utils.addJob(flaky, {}, { maxAttempts: 2, queueName: "q", jobKey: "k1" });
  await w.runOnce();
  await db.sql.unsafe(`update ${db.s}._private_jobs set run_at = now()`);
  await w.runOnce();
  await w.stop();
  const runs = await waitFor("two process spans", () => {
    const s = sdk.spans().filter((x) => x.name === "process otel_flaky");
    return s.length === 2 ? s : undefined;
  });
  const [first, second] = runs.sort((a, b) =>
    Number(a.attributes["spool.job.attempt"]) - Number(b.attributes["spool.job.attempt"])
  );
  for (const span of runs) {
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, "flaky broke");
    assert.equal(span.attributes["error.type"], "TypeError");
    assert.equal(span.attributes["spool.job.queue_name"], "q");
    assert.equal(span.attributes["spool.job.key"], "k1");
  }
  assert.equal(first.attributes["spool.job.will_retry"], true);
  assert.equal(first.attributes["spool.job.permanent"], false);
  assert.equal(second.attributes["spool.job.attempt"], 2);
  assert.equal(second.attributes["spool.job.permanent"], true);
  const send = one(sdk.spans(), "send otel_flaky");
  assert.deepEqual(linkIds(first), [send.spanContext().spanId]);
  assert.deepEqual(linkIds(second), [send.spanContext().spanId], "a retry keeps the context");
});

test("bulk add: a create span per job (each job carries its own), one send span linked to them", async () => {
  await reset();
  const w = await worker();
  const jobs = await w.utils.addJobs(strict, [{ payload: { n: 1 } }, { payload: { n: 2 } }]);
  await w.runOnce();
  await w.stop();
  const spans = sdk.spans();
  const creates = spans.filter((s) => s.name === "create otel_strict");
  assert.equal(creates.length, 2);
  const send = one(spans, "send otel_strict");
  assert.equal(send.kind, KIND.CLIENT);
  assert.equal(send.attributes["messaging.batch.message_count"], 2);
  assert.deepEqual(linkIds(send).sort(), creates.map((s) => s.spanContext().spanId).sort());
  for (const job of jobs) {
    const create = creates.find((s) => s.attributes["messaging.message.id"] === job.id)!;
    assert.equal(create.kind, KIND.PRODUCER);
    const carried = (job.payload as { _trace: { span_id: string } })._trace.span_id;
    assert.equal(carried, create.spanContext().spanId);
    const process = await waitFor(
      "process span",
      () =>
        sdk.spans().find((s) =>
          s.name === "process otel_strict" && s.attributes["messaging.message.id"] === job.id
        ),
    );
    assert.deepEqual(linkIds(process), [carried]);
  }
  assert.deepEqual(seen.sort((a, b) => (a as { n: number }).n - (b as { n: number }).n), [
    { n: 1 },
    { n: 2 },
  ]);
});

test("bulkCreateSpans: false: one PRODUCER send span; every job carries its context", async () => {
  await reset();
  const w = await createWorker(workerOptions(db.schema, {
    tasks,
    plugins: [
      otelPlugin({ tracerProvider: sdk.tracerProvider, metrics: false, bulkCreateSpans: false }),
    ],
  }));
  const jobs = await w.utils.addJobs(strict, [{ payload: { n: 1 } }, { payload: { n: 2 } }]);
  const spans = sdk.spans();
  assert.equal(spans.filter((s) => s.name.startsWith("create")).length, 0);
  const send = one(spans, "send otel_strict");
  assert.equal(send.kind, KIND.PRODUCER);
  assert.equal(send.attributes["messaging.batch.message_count"], 2);
  for (const job of jobs) {
    assert.equal(
      (job.payload as { _trace: { span_id: string } })._trace.span_id,
      send.spanContext().spanId,
    );
  }
  await w.runOnce();
  await w.stop();
  await waitFor(
    "two process spans",
    () => sdk.spans().filter((s) => s.name === "process otel_strict").length === 2,
  );
  for (const p of sdk.spans().filter((s) => s.name === "process otel_strict")) {
    assert.deepEqual(linkIds(p), [send.spanContext().spanId]);
  }
});

/**
 * Add an array payload with `add`, check that each item carries the send span's context,
 * run it, and return the process span (linked once to that context).
 */
async function runItems(
  task: string,
  add: (w: Awaited<ReturnType<typeof worker>>) => Promise<{ payload: unknown }>,
) {
  await reset();
  const w = await worker();
  const job = await add(w);
  const send = one(sdk.spans(), `send ${task}`);
  const stored = job.payload as Array<{ _trace: { span_id: string } }>;
  assert.deepEqual(stored.map((i) => i._trace.span_id), [
    send.spanContext().spanId,
    send.spanContext().spanId,
  ]);
  await w.runOnce();
  await w.stop();
  const process = await waitFor(
    "process span",
    () => sdk.spans().find((s) => s.name === `process ${task}`),
  );
  assert.deepEqual(linkIds(process), [send.spanContext().spanId], "one link per distinct context");
  return process;
}

test("batch job: every object item carries the context; strict item schemas pass", async () => {
  const process = await runItems(
    "otel_items",
    (w) => w.utils.addBatchJob(items, [{ n: 1 }, { n: 2 }]),
  );
  assert.equal(process.attributes["spool.job.batch.items"], 2);
  assert.deepEqual(seen, [{ n: 1 }, { n: 2 }]);
});

test("a plain task with an array payload: items carry the context; strict schemas pass; run() sees none", async () => {
  const process = await runItems("otel_list", (w) => w.utils.addJob(list, [{ n: 1 }, { n: 2 }]));
  assert.equal(process.status.code, SpanStatusCode.UNSET, "the job did not fail");
  assert.deepEqual(seen, [[{ n: 1 }, { n: 2 }]]);
});

test("a job added through SQL with a graphile_worker_rs _trace is linked; run() does not see it", async () => {
  await reset();
  const rust = {
    flags: 1,
    trace_id: "0af7651916cd43dd8448eb211c80319c",
    span_id: "b7ad6b7169203331",
  };
  await db.addJob("otel_strict", { n: 7, _trace: rust });
  const w = await worker();
  await w.runOnce();
  await w.stop();
  const process = await waitFor(
    "process span",
    () => sdk.spans().find((s) => s.name === "process otel_strict"),
  );
  assert.equal(process.links[0].context.traceId, rust.trace_id);
  assert.equal(process.links[0].context.spanId, rust.span_id);
  assert.deepEqual(seen, [{ n: 7 }]);
});

test("a user's own _trace is never overwritten: a valid one is kept and linked, another value left alone", async () => {
  await reset();
  const w = await worker();
  const mine = {
    flags: 0,
    trace_id: "11111111111111111111111111111111",
    span_id: "2222222222222222",
  };
  const kept = await w.utils.addRawJob("otel_raw", { a: 1, _trace: mine });
  assert.deepEqual(kept.payload, { a: 1, _trace: mine });
  const send = one(sdk.spans(), "send otel_raw");
  assert.deepEqual(linkIds(send), [mine.span_id]);
  const other = await w.utils.addRawJob("otel_raw", { a: 2, _trace: "user data" });
  assert.deepEqual(other.payload, { a: 2, _trace: "user data" });
  await w.stop();
});

test("with no SDK the plugin writes no _trace, registers no hook, and jobs run", async () => {
  await reset();
  assert.equal(createHookRegistry({ plugins: [otelPlugin()] }).empty, true);
  const onlyTraces = createHookRegistry({
    plugins: [otelPlugin({ tracerProvider: sdk.tracerProvider })],
  });
  assert.equal(onlyTraces.has("aroundJobRun"), true);
  const w = await createWorker(workerOptions(db.schema, { tasks, plugins: [otelPlugin()] }));
  const job = await w.utils.addJob(strict, { n: 3 });
  assert.deepEqual(job.payload, { n: 3 });
  await w.runOnce();
  await w.stop();
  assert.deepEqual(seen, [{ n: 3 }]);
  assert.equal(sdk.spans().filter((s) => s.name !== "inside the task").length, 0);
});

test("otel spans: teardown", async () => {
  await sdk.shutdown();
  await db.close();
});
