/**
 * The `_trace` payload key: a job's creation context, in graphile_worker_rs's
 * shape `{ flags, trace_id, span_id }` (so Rust and Spool workers link each
 * other's jobs). Spool removes it before a task's payload schema and `run`
 * see the payload, so strict schemas keep working, and only when it is a
 * trace context: any other `_trace` value is the user's data and is left
 * alone.
 *
 * @module
 */

/** The payload key trace context is carried under. */
export const TRACE_KEY = "_trace";

/** A trace context as stored under `_trace`. Extra keys are allowed (and ignored). */
export interface TraceCarrier {
  /** W3C trace flags (1 = sampled). */
  flags: number;
  /** 32 lowercase hex digits, not all zero. */
  trace_id: string;
  /** 16 lowercase hex digits, not all zero. */
  span_id: string;
}

const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
const SPAN_ID = /^(?!0{16})[0-9a-f]{16}$/;

/** Whether `value` is a usable trace context in the `_trace` shape. */
export function isTraceCarrier(value: unknown): value is TraceCarrier {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.trace_id === "string" && TRACE_ID.test(v.trace_id) &&
    typeof v.span_id === "string" && SPAN_ID.test(v.span_id) &&
    typeof v.flags === "number" && Number.isInteger(v.flags) && v.flags >= 0 && v.flags <= 255;
}

/** The trace context `payload` carries under `_trace`, if it is an object with a valid one. */
export function traceOf(payload: unknown): TraceCarrier | undefined {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return undefined;
  const t = (payload as Record<string, unknown>)[TRACE_KEY];
  return isTraceCarrier(t) ? t : undefined;
}

function objectWithoutTrace(item: unknown): unknown {
  if (
    typeof item !== "object" || item === null || Array.isArray(item) ||
    (item as Record<string, unknown>)[TRACE_KEY] === undefined ||
    !isTraceCarrier((item as Record<string, unknown>)[TRACE_KEY])
  ) return item;
  const { [TRACE_KEY]: _, ...rest } = item as Record<string, unknown>;
  return rest;
}

/**
 * `payload` as a task sees it: an object whose `_trace` is a trace context
 * comes back as a shallow copy without that key, and an array with each such
 * object item copied the same way (trace context is written on every object
 * item of an array payload); anything else is returned as is (no copy).
 * Cheap when there is no `_trace`: one property check per object.
 */
export function withoutTrace(payload: unknown): unknown {
  if (!Array.isArray(payload)) return objectWithoutTrace(payload);
  let out: unknown[] | undefined;
  for (let i = 0; i < payload.length; i++) {
    const item = objectWithoutTrace(payload[i]);
    if (item !== payload[i]) (out ??= [...payload])[i] = item;
  }
  return out ?? payload;
}
