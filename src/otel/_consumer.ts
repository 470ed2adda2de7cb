/**
 * CONSUMER side: one `process {task}` span per attempt, active while the task
 * runs (spans the task makes are its children), linked (not parented: a job
 * may run long after it was added) to every creation context in the payload.
 * The span ends when the task settled; its outcome (error status and
 * message, permanent or retried) is filled in once the outcome is written.
 *
 * @module
 */
import {
  type Attributes,
  context,
  isSpanContextValid,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { HookEvents, HookJob, RunWrapper } from "../hooks/types.ts";
import { linksTo } from "./_carrier.ts";
import type { Instruments } from "./_metrics.ts";
import { ATTR, errorType, SPOOL } from "./_names.ts";

interface Attempt {
  span: Span | undefined;
  start: number;
  end?: number;
}

const NO_ATTRS: Attributes = {};

/** High-resolution wall time in ms (span times and durations). */
const now = (): number => performance.timeOrigin + performance.now();

/** Consumer spans and metrics of one plugin instance. */
export class Consumer {
  #tracer: Tracer | undefined;
  #system: string;
  #metrics: Instruments | undefined;
  #open = new Map<HookJob, Attempt>();
  #okAttrs = new Map<string, Attributes>();

  /** `tracer` undefined: metrics only (no `aroundJobRun`; durations as the hooks report them). */
  constructor(tracer: Tracer | undefined, system: string, metrics: Instruments | undefined) {
    this.#tracer = tracer;
    this.#system = system;
    this.#metrics = metrics;
  }

  /** `aroundJobRun` (only with a tracer): run the task inside its process span. */
  around: RunWrapper = (ctx, run) => {
    const job = ctx.job;
    const attributes: Attributes = {
      [ATTR.system]: this.#system,
      [ATTR.operationName]: "process",
      [ATTR.operationType]: "process",
      [ATTR.destination]: job.identifier,
      [ATTR.messageId]: job.id,
      [ATTR.clientId]: ctx.workerId,
      [SPOOL.attempt]: job.attempts,
      [SPOOL.maxAttempts]: job.maxAttempts,
      [SPOOL.priority]: job.priority,
    };
    if (job.queueName !== null) attributes[SPOOL.queue] = job.queueName;
    if (job.key !== null) attributes[SPOOL.key] = job.key;
    if (Array.isArray(job.payload)) attributes[SPOOL.batchItems] = job.payload.length;
    const start = now();
    const span = this.#tracer!.startSpan(`process ${job.identifier}`, {
      kind: SpanKind.CONSUMER,
      root: true,
      startTime: start,
      attributes,
      links: linksTo(job.payload),
    });
    const attempt: Attempt = { span: span.isRecording() ? span : undefined, start };
    if (attempt.span || this.#metrics) this.#open.set(job, attempt);
    const settled = () => void (attempt.end = now());
    // A valid but unsampled span is still made active, so the task's spans are dropped with it.
    if (!isSpanContextValid(span.spanContext())) return run().finally(settled);
    return context.with(trace.setSpan(context.active(), span), run).finally(settled);
  };

  /** `job:complete`. */
  completed(ev: HookEvents["job:complete"]): void {
    const attempt = this.#take(ev.job);
    this.#count(ev.job, attempt, ev.durationMs, NO_ATTRS);
    attempt?.span?.end(attempt.end);
  }

  /** `job:fail`. */
  failed(ev: HookEvents["job:fail"]): void {
    const attempt = this.#take(ev.job);
    const errorAttrs = { [ATTR.errorType]: errorType(ev.cause) };
    this.#count(ev.job, attempt, ev.durationMs, errorAttrs);
    this.#metrics?.failures.add(1, {
      [ATTR.system]: this.#system,
      [ATTR.destination]: ev.job.identifier,
      [SPOOL.permanent]: ev.permanent,
      ...errorAttrs,
    });
    const span = attempt?.span;
    if (!span) return;
    span.setStatus({ code: SpanStatusCode.ERROR, message: ev.error });
    span.setAttributes({
      ...errorAttrs,
      [SPOOL.permanent]: ev.permanent,
      [SPOOL.retry]: !ev.permanent,
    });
    span.end(attempt.end);
  }

  /** `job:retry`. */
  retried(ev: HookEvents["job:retry"]): void {
    this.#metrics?.retries.add(1, {
      [ATTR.system]: this.#system,
      [ATTR.destination]: ev.job.identifier,
    });
  }

  /** End the spans of attempts whose outcome will not be reported (the worker stopped). */
  close(): void {
    for (const attempt of this.#open.values()) {
      attempt.span?.setStatus({
        code: SpanStatusCode.ERROR,
        message: "interrupted: the worker stopped before the outcome was written",
      });
      attempt.span?.end(attempt.end);
    }
    this.#open.clear();
  }

  #take(job: HookJob): Attempt | undefined {
    const attempt = this.#open.get(job);
    if (attempt) this.#open.delete(job);
    return attempt;
  }

  #count(job: HookJob, attempt: Attempt | undefined, durationMs: number, extra: Attributes): void {
    const m = this.#metrics;
    if (!m) return;
    const ok = extra[ATTR.errorType] === undefined;
    let attrs = ok ? this.#okAttrs.get(job.identifier) : undefined;
    if (!attrs) {
      attrs = {
        [ATTR.system]: this.#system,
        [ATTR.operationName]: "process",
        [ATTR.destination]: job.identifier,
        ...extra,
      };
      if (ok) this.#okAttrs.set(job.identifier, attrs);
    }
    m.consumed.add(1, attrs);
    // The task's own time when it ran here; else (a hook settled it) the reported duration.
    const ms = attempt?.end !== undefined ? attempt.end - attempt.start : durationMs;
    m.processDuration.record(Math.max(0, ms) / 1000, attrs);
  }
}
