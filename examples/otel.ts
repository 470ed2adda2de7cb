// deno-lint-ignore-file no-console
/**
 * OpenTelemetry: a trace from the add to the run, and the queue's metrics.
 *
 *   OTEL_DENO=true deno run -A examples/otel.ts   # Deno's built-in OTel, exports OTLP to :4318
 *   bun examples/otel.ts                          # the JS SDK, spans printed here
 *   deno run -A examples/otel.ts                  # the same as under Bun
 *
 * Uses DATABASE_URL when set, otherwise an in-memory PGlite database. A
 * "request" span adds a job; the task makes a child span and adds a
 * follow-up job; both run once. Without OTEL_DENO the example registers an
 * SDK (as an app would, before creating the worker) that prints each span
 * and, at the end, the counters.
 */
import process from "node:process";
import { context, type Span, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { type DataPoint, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { z } from "zod";
import { consoleLogger, createWorker, defineTask } from "../mod.ts";
import { otelPlugin } from "../src/otel/mod.ts";

const builtIn = process.env.OTEL_DENO === "true";
const KINDS = ["INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"];

/** Prints one line per finished span. */
const printer: SpanExporter = {
  export(spans: ReadableSpan[], done: (r: { code: number }) => void) {
    for (const s of spans) {
      const parent = s.parentSpanContext?.spanId ?? "root";
      const links = s.links.map((l) => l.context.spanId).join(",") || "-";
      const status = s.status.message ? ` status=${s.status.message}` : "";
      console.log(
        `[span] ${s.name.padEnd(26)} ${KINDS[s.kind].padEnd(8)} id=${s.spanContext().spanId} ` +
          `parent=${parent} links=${links}${status}`,
      );
    }
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};

class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}
const reader = new OnDemandReader();
if (!builtIn) {
  // What an app does at startup under Bun (or Deno without OTEL_DENO): register an SDK.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(printer)] }),
  );
}
const meterProvider = builtIn ? undefined : new MeterProvider({ readers: [reader] });

const tracer = trace.getTracer("otel-example");
const followUp = defineTask({
  identifier: "log_delivery",
  payload: z.object({ to: z.string() }).strict(),
  run: (p) => console.log(`[task]  delivery to ${p.to} logged`),
});
const sendEmail = defineTask({
  identifier: "send_email",
  // strict: the `_trace` key Spool adds is removed before the schema sees the payload
  payload: z.object({ to: z.string() }).strict(),
  async run(p, ctx) {
    await tracer.startActiveSpan("smtp.send", async (span: Span) => {
      console.log(`[task]  sending to ${p.to}`);
      await ctx.addJob(followUp, { to: p.to }); // traced as a child of the run
      span.end();
    });
  },
});

const worker = await createWorker({
  database: process.env.DATABASE_URL || undefined, // unset or empty → embedded PGlite
  schema: process.env.SPOOL_SCHEMA ?? "spool_otel_example",
  tasks: [sendEmail, followUp],
  plugins: [otelPlugin({ meterProvider })],
  logger: consoleLogger({ level: "warn", scope: "spool" }),
  noHandleSignals: true,
});
try {
  await worker.utils.migrate();
  await tracer.startActiveSpan("POST /signup", async (span: Span) => {
    const job = await worker.utils.addJob(sendEmail, { to: "ada@example.com" });
    console.log(`[add]   job ${job.id} payload ${JSON.stringify(job.payload)}`);
    span.end();
  });
  await worker.runOnce();
} finally {
  await worker.stop();
}
if (builtIn) {
  console.log("done: spans and metrics go to OTEL_EXPORTER_OTLP_ENDPOINT (default :4318)");
} else {
  const { resourceMetrics } = await reader.collect();
  for (const m of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
    if (!m.descriptor.name.endsWith(".messages")) continue; // the counters
    for (const p of m.dataPoints as DataPoint<number>[]) {
      console.log(
        `[metric] ${m.descriptor.name} ${p.attributes["messaging.destination.name"]} = ${p.value}`,
      );
    }
  }
}
