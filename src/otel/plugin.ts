/**
 * `otelPlugin`: OpenTelemetry traces and metrics for Spool, built on its
 * hooks. See the README's OpenTelemetry section and `docs/hooks.md`.
 *
 * @module
 */
import {
  createNoopMeter,
  type Meter,
  metrics,
  ProxyTracerProvider,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { Queryable } from "../driver/types.ts";
import { ValidationError } from "../errors.ts";
import type { Plugin } from "../hooks/types.ts";
import { SPOOL_VERSION } from "../version.ts";
import { Consumer } from "./_consumer.ts";
import { observeQueue } from "./_gauges.ts";
import { createInstruments } from "./_metrics.ts";
import { Producer } from "./_producer.ts";

/**
 * A tracer provider: any `@opentelemetry/api` `TracerProvider` (an SDK's,
 * Deno's). Typed loosely so Spool's public types do not include the OTel API's.
 */
export interface TracerProviderLike {
  /** Returns a `Tracer` of `@opentelemetry/api`. */
  getTracer(name: string, version?: string): unknown;
}

/** A meter provider: any `@opentelemetry/api` `MeterProvider`. */
export interface MeterProviderLike {
  /** Returns a `Meter` of `@opentelemetry/api`. */
  getMeter(name: string, version?: string): unknown;
}

/** Options of {@linkcode otelPlugin}. */
export interface OtelPluginOptions {
  /** Where spans go. @default the global provider (`trace.getTracerProvider()`; Deno's with `OTEL_DENO=true`) */
  tracerProvider?: TracerProviderLike;
  /** Where metrics go. @default the global provider at worker creation (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProviderLike;
  /** `messaging.system` on every span and metric. @default {"graphile-worker"} (the value graphile_worker_rs uses) */
  system?: string;
  /**
   * Bulk adds (`addJobs`, `addRawJobs`): one PRODUCER `create` span per job
   * plus a CLIENT `send` span, as the conventions recommend; `false` records
   * one PRODUCER `send` span whose context every job of the add carries
   * (about half the spans). @default {true}
   */
  bulkCreateSpans?: boolean;
  /** Record metrics. @default {true} */
  metrics?: boolean;
  /**
   * Opt-in observable gauges of the queue (`spool.queue.jobs` by state,
   * `spool.queue.oldest_ready.age`): one query on `db` per collection
   * interval, for the worker's schema, while the worker runs.
   */
  queueGauges?: { db: Queryable };
  /** Plugin name (unique among a worker's plugins). @default {"otel"} */
  name?: string;
}

/** Instrumentation scope name of the tracer and meter. */
export const OTEL_SCOPE = "@spool/worker";

// The API's own no-op implementations, recognised by class (they are not exported by name).
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate().constructor;
const NOOP_METER = createNoopMeter().constructor;

/** Whether `provider` records anything: not the API's no-op (directly or behind the global proxy). */
function tracing(provider: TracerProviderLike): boolean {
  const p = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return p.constructor !== NOOP_TRACER_PROVIDER;
}

function check(options: unknown): OtelPluginOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ValidationError("options", "must be an object of otelPlugin options");
  }
  const o = options as Record<string, unknown>;
  const fn = (v: unknown, method: string) =>
    typeof v === "object" && v !== null &&
    typeof (v as Record<string, unknown>)[method] === "function";
  if (o.tracerProvider !== undefined && !fn(o.tracerProvider, "getTracer")) {
    throw new ValidationError("tracerProvider", "must be a TracerProvider (with getTracer)");
  }
  if (o.meterProvider !== undefined && !fn(o.meterProvider, "getMeter")) {
    throw new ValidationError("meterProvider", "must be a MeterProvider (with getMeter)");
  }
  for (const key of ["system", "name"] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== "string" || v.trim() === "")) {
      throw new ValidationError(key, "must be a non-empty string");
    }
  }
  for (const key of ["metrics", "bulkCreateSpans"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "boolean") {
      throw new ValidationError(key, "must be true or false");
    }
  }
  if (o.queueGauges !== undefined) {
    const g = o.queueGauges as Record<string, unknown> | null;
    if (typeof g !== "object" || g === null || !fn(g.db, "query")) {
      throw new ValidationError("queueGauges.db", "must be a driver or Queryable (with query)");
    }
  }
  return o as OtelPluginOptions;
}

/**
 * A plugin that records OpenTelemetry spans and metrics for adds and runs,
 * and carries the trace context in the payload (`_trace`). Without an SDK
 * (nothing registered, no provider given) it records nothing and writes no
 * `_trace`.
 *
 * @throws {ValidationError} for a bad option (naming it).
 *
 * @example
 * ```ts ignore
 * import { createWorker } from "@spool/worker";
 * import { otelPlugin } from "@spool/worker/otel";
 * // Deno: run with OTEL_DENO=true; Bun: register an SDK first (see the README).
 * const worker = await createWorker({ database: "postgres://…", tasks, plugins: [otelPlugin()] });
 * ```
 */
export function otelPlugin(options?: OtelPluginOptions): Plugin {
  const o = check(options);
  const system = o.system ?? "graphile-worker";
  return {
    name: o.name ?? "otel",
    setup(api) {
      // Resolved now, not at import: providers registered before the worker is created are used.
      // With neither an SDK tracer nor an SDK meter, no hook is registered: nothing to pay.
      const provider = o.tracerProvider ?? trace.getTracerProvider();
      const meter = o.metrics === false
        ? undefined
        : (o.meterProvider ?? metrics.getMeterProvider()).getMeter(
          OTEL_SCOPE,
          SPOOL_VERSION,
        ) as Meter;
      const measuring = meter !== undefined && meter.constructor !== NOOP_METER;
      if (!tracing(provider) && !measuring) return;
      const tracer = tracing(provider)
        ? provider.getTracer(OTEL_SCOPE, SPOOL_VERSION) as Tracer
        : undefined;
      const instruments = measuring ? createInstruments(meter) : undefined;
      const producer = new Producer(tracer, system, instruments, o.bulkCreateSpans !== false);
      const consumer = new Consumer(tracer, system, instruments);
      if (tracer) {
        api.on("beforeJobSchedule", (ctx) => producer.schedule(ctx));
        api.on("cron:tick", () => producer.tick());
        api.on("aroundJobRun", consumer.around);
      }
      api.on("job:added", (ev) => producer.added(ev));
      api.on("cron:scheduled", (ev) => producer.cronScheduled(ev));
      api.on("job:complete", (ev) => consumer.completed(ev));
      api.on("job:fail", (ev) => consumer.failed(ev));
      if (instruments) {
        const fetchAttrs = { "messaging.system": system };
        const fetchOp = {
          ...fetchAttrs,
          "messaging.operation.name": "fetch",
          "messaging.operation.type": "receive",
        };
        api.on("job:retry", (ev) => consumer.retried(ev));
        api.on("worker:fetch", (ev) => {
          instruments.fetchSize.record(ev.fetched, fetchAttrs);
          instruments.operationDuration.record(ev.durationMs / 1000, fetchOp);
        });
      }
      let stopGauges: (() => void) | undefined;
      if (measuring && o.queueGauges) {
        const db = o.queueGauges.db;
        api.on("worker:start", (ev) => {
          stopGauges ??= observeQueue(meter, db, ev.schema, system);
        });
      }
      api.on("worker:shutdown", () => {
        stopGauges?.();
        stopGauges = undefined;
        consumer.close();
        producer.close();
      });
    },
  };
}
