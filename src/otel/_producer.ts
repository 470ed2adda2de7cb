/**
 * PRODUCER side: spans and counts for adds and cron runs.
 *
 * - A single add (`addJob`, `addRawJob`, `addBatchJob`) is one PRODUCER span
 *   `send {task}`, started by `beforeJobSchedule` (its context goes into the
 *   payload), ended by `job:added` with the job id. Its parent is the
 *   caller's active span.
 * - A bulk add (`addJobs`, `addRawJobs`) is one PRODUCER `create {task}` span
 *   per job (each job carries its own) plus one CLIENT `send` span with
 *   `messaging.batch.message_count`, linked to the create spans. With
 *   `bulkCreateSpans: false` (the conventions allow turning "create" off)
 *   it is one PRODUCER `send` span whose context every job carries.
 * - A cron run is a root PRODUCER `create {task}` span, ended when the run was
 *   added (`cron:scheduled`), or at the next tick when another scheduler
 *   claimed it (`spool.job.not_added`).
 *
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from "@opentelemetry/api";
import type { BeforeJobScheduleContext, HookEvents, ScheduleDecision } from "../hooks/types.ts";
import { type TraceCarrier, traceOf } from "../internal/trace_payload.ts";
import { carrierOf, linksTo, writeCarrier } from "./_carrier.ts";
import type { Instruments } from "./_metrics.ts";
import { ATTR, errorType, SPOOL } from "./_names.ts";

interface CallState {
  bulk: boolean;
  parent: Context;
  start: number;
  /** Every span of the call, in order. */
  spans: Span[];
  /** Spans whose context went into a payload, by span id. */
  bySpanId: Map<string, Span>;
  identifiers: string[];
  /** Bulk adds without create spans: the one send span and its carrier. */
  send?: { span: Span; carrier: TraceCarrier | undefined };
}

const BULK: ReadonlySet<string> = new Set([
  "addJobs",
  "addRawJobs",
  "addJobsFast",
  "addRawJobsFast",
]);

function countBy(identifiers: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of identifiers) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

/** Producer spans and metrics of one plugin instance. */
export class Producer {
  #tracer: Tracer | undefined;
  #system: string;
  #metrics: Instruments | undefined;
  #calls = new WeakMap<object, CallState>();
  #cron = new Map<string, Span>();

  #attrCache = new Map<string, Attributes>();

  #createSpans: boolean;

  /** `tracer` undefined: metrics only (no `beforeJobSchedule`, so failed adds count without a task). */
  constructor(
    tracer: Tracer | undefined,
    system: string,
    metrics: Instruments | undefined,
    createSpans = true,
  ) {
    this.#tracer = tracer;
    this.#system = system;
    this.#metrics = metrics;
    this.#createSpans = createSpans;
  }

  /** `beforeJobSchedule` (only with a tracer): start the job's span, write its context into the payload. */
  schedule(ctx: BeforeJobScheduleContext): ScheduleDecision {
    const tracer = this.#tracer!;
    if (ctx.source === "cron") return this.#cronCreate(ctx);
    let state = this.#calls.get(ctx.call);
    if (!state) {
      state = {
        bulk: BULK.has(ctx.method),
        parent: context.active(),
        start: Date.now(),
        spans: [],
        bySpanId: new Map(),
        identifiers: [],
      };
      this.#calls.set(ctx.call, state);
    }
    state.identifiers.push(ctx.identifier);
    if (state.bulk && !this.#createSpans) return this.#shared(state, ctx.method, ctx.payload);
    const op = state.bulk ? "create" : "send";
    const attributes: Attributes = {
      [ATTR.system]: this.#system,
      [ATTR.operationName]: op,
      [ATTR.operationType]: op,
      [ATTR.destination]: ctx.identifier,
      [SPOOL.addMethod]: ctx.method,
    };
    if (Array.isArray(ctx.payload)) attributes[SPOOL.batchItems] = ctx.payload.length;
    const span = tracer.startSpan(
      `${op} ${ctx.identifier}`,
      // A creation context the caller put in the payload is kept; the span links to it.
      { kind: SpanKind.PRODUCER, attributes, links: linksTo(ctx.payload) },
      state.parent,
    );
    state.spans.push(span);
    const carrier = carrierOf(span.spanContext());
    if (!carrier) return undefined;
    state.bySpanId.set(carrier.span_id, span);
    const payload = writeCarrier(ctx.payload, carrier);
    return payload === ctx.payload ? undefined : { payload };
  }

  /** `job:added`: end the call's spans (with job ids, or the error) and count. */
  added(ev: HookEvents["job:added"]): void {
    const state = this.#calls.get(ev.call);
    this.#calls.delete(ev.call);
    const failed = ev.error !== undefined;
    const errorAttrs: Attributes = failed ? { [ATTR.errorType]: errorType(ev.error) } : {};
    const m = this.#metrics;
    if (m) {
      const ids = failed ? state?.identifiers ?? [] : ev.jobs.map((j) => j.identifier);
      if (failed && ids.length === 0) m.sent.add(1, this.#attrs("send", undefined, errorAttrs));
      for (const [identifier, n] of countBy(ids)) {
        m.sent.add(
          n,
          failed ? this.#attrs("send", identifier, errorAttrs) : this.#cached(identifier),
        );
      }
      const only = new Set(ids).size === 1 ? ids[0] : undefined;
      m.operationDuration.record(ev.durationMs / 1000, {
        ...this.#attrs("send", only, errorAttrs),
        [ATTR.operationType]: "send",
      });
    }
    if (!state || state.spans.length === 0) return;
    if (failed) {
      const message = ev.error instanceof Error ? ev.error.message : String(ev.error);
      for (const span of state.spans) {
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        span.setAttributes(errorAttrs);
        span.end();
      }
      return;
    }
    const ended = new Set<Span>();
    const finish = (span: Span | undefined, id: string) => {
      if (!span || ended.has(span)) return;
      span.setAttribute(ATTR.messageId, id);
      span.end();
      ended.add(span);
    };
    if (state.send) return this.#endShared(state, ev);
    if (!state.bulk) finish(state.spans[0], ev.jobs[0]?.id ?? "");
    for (const job of state.bulk ? ev.jobs : []) {
      finish(state.bySpanId.get(traceOf(job.payload)?.span_id ?? ""), job.id);
    }
    for (const span of state.spans) {
      if (ended.has(span)) continue;
      span.setAttribute(SPOOL.notAdded, true); // skipped by a hook, or its job came back changed
      span.end();
    }
    if (state.bulk && state.bySpanId.size > 0) this.#bulkSend(state, ev);
  }

  /** A bulk add without create spans: every job carries the one send span's context. */
  #shared(state: CallState, method: string, payload: unknown): ScheduleDecision {
    if (!state.send) {
      const span = this.#tracer!.startSpan("send", {
        kind: SpanKind.PRODUCER,
        attributes: {
          ...this.#attrs("send", undefined, {}),
          [ATTR.operationType]: "send",
          [SPOOL.addMethod]: method,
        },
      }, state.parent);
      state.spans.push(span);
      state.send = { span, carrier: carrierOf(span.spanContext()) };
    }
    if (!state.send.carrier) return undefined;
    const next = writeCarrier(payload, state.send.carrier);
    return next === payload ? undefined : { payload: next };
  }

  #endShared(state: CallState, ev: HookEvents["job:added"]): void {
    const span = state.send!.span;
    const ids = new Set(ev.jobs.map((j) => j.identifier));
    if (ids.size === 1) {
      const [only] = ids;
      span.updateName(`send ${only}`);
      span.setAttribute(ATTR.destination, only);
    }
    span.setAttribute(ATTR.batchCount, ev.jobs.length);
    span.end();
  }

  /** The CLIENT `send` span of a bulk add, linked to its create spans. */
  #bulkSend(state: CallState, ev: HookEvents["job:added"]): void {
    const ids = new Set(state.identifiers);
    const only = ids.size === 1 ? [...ids][0] : undefined;
    this.#tracer!.startSpan(only ? `send ${only}` : "send", {
      kind: SpanKind.CLIENT,
      startTime: state.start,
      links: [...state.bySpanId.values()].map((s) => ({ context: s.spanContext() })),
      attributes: {
        ...this.#attrs("send", only, {}),
        [ATTR.operationType]: "send",
        [ATTR.batchCount]: ev.jobs.length,
        [SPOOL.addMethod]: ev.method,
      },
    }, state.parent).end();
  }

  /** `cron:tick`: runs of earlier minutes that were not added (another scheduler claimed them). */
  tick(): void {
    for (const span of this.#cron.values()) {
      span.setAttribute(SPOOL.notAdded, true);
      span.end();
    }
    this.#cron.clear();
  }

  /** `cron:scheduled`: a cron run was added. */
  cronScheduled(ev: HookEvents["cron:scheduled"]): void {
    this.#metrics?.sent.add(1, this.#cached(ev.task));
    const key = `${ev.identifier}@${ev.ts.getTime()}`;
    const span = this.#cron.get(key);
    if (!span) return;
    this.#cron.delete(key);
    span.end();
  }

  /** End what is still open (worker shutdown). */
  close(): void {
    this.tick();
  }

  #cronCreate(ctx: Extract<BeforeJobScheduleContext, { source: "cron" }>): ScheduleDecision {
    // The scheduler's own context: a root span, as no caller is waiting on a cron run.
    const span = this.#tracer!.startSpan(`create ${ctx.identifier}`, {
      kind: SpanKind.PRODUCER,
      root: true,
      attributes: {
        ...this.#attrs("create", ctx.identifier, {}),
        [ATTR.operationType]: "create",
        [SPOOL.cronIdentifier]: ctx.cron.identifier,
        [SPOOL.cronTs]: ctx.cron.ts.toISOString(),
        [SPOOL.cronBackfilled]: ctx.cron.backfilled,
      },
    });
    const carrier = carrierOf(span.spanContext());
    if (!carrier) return undefined;
    const key = `${ctx.cron.identifier}@${ctx.cron.ts.getTime()}`;
    this.#cron.get(key)?.end();
    this.#cron.set(key, span);
    return { payload: writeCarrier(ctx.payload, carrier) };
  }

  /** The (reused) attributes of a successful send of `identifier`. */
  #cached(identifier: string): Attributes {
    let a = this.#attrCache.get(identifier);
    if (!a) this.#attrCache.set(identifier, a = this.#attrs("send", identifier, {}));
    return a;
  }

  #attrs(op: string, identifier: string | undefined, extra: Attributes): Attributes {
    const a: Attributes = { [ATTR.system]: this.#system, [ATTR.operationName]: op, ...extra };
    if (identifier !== undefined) a[ATTR.destination] = identifier;
    return a;
  }
}
