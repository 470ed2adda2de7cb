/**
 * Trace context in and out of payloads (`_trace`, graphile_worker_rs's
 * shape), written from a span's context directly rather than through the
 * global propagator, which may be a no-op.
 *
 * Rules: an object gets `_trace` unless it already has the key; each object
 * item of an array gets it the same way; scalars and null are left as they
 * are. A `_trace` already there is never changed: a valid one stays the
 * job's creation context, any other value is the user's and the job then
 * carries no context.
 *
 * @module
 */
import { isSpanContextValid, type Link, type SpanContext } from "@opentelemetry/api";
import { isTraceCarrier, TRACE_KEY, type TraceCarrier } from "../internal/trace_payload.ts";

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The `_trace` value for `sc`, or undefined when `sc` is not a valid context. */
export function carrierOf(sc: SpanContext): TraceCarrier | undefined {
  if (!isSpanContextValid(sc)) return undefined;
  return { flags: sc.traceFlags, trace_id: sc.traceId, span_id: sc.spanId };
}

function withCarrier(item: unknown, carrier: TraceCarrier): unknown {
  if (!isPlainObject(item) || item[TRACE_KEY] !== undefined) return item;
  return { ...item, [TRACE_KEY]: carrier };
}

/** `payload` with `carrier` written per the module's rules (the same value when nothing changed). */
export function writeCarrier(payload: unknown, carrier: TraceCarrier): unknown {
  if (!Array.isArray(payload)) return withCarrier(payload, carrier);
  let changed = false;
  const out = payload.map((item) => {
    const next = withCarrier(item, carrier);
    if (next !== item) changed = true;
    return next;
  });
  return changed ? out : payload;
}

/** The distinct valid `_trace` contexts of `payload` (the object, or each object item of an array). */
export function carriersIn(payload: unknown): TraceCarrier[] {
  const items = Array.isArray(payload) ? payload : [payload];
  const seen = new Set<string>();
  const out: TraceCarrier[] = [];
  for (const item of items) {
    if (!isPlainObject(item)) continue;
    const t = item[TRACE_KEY];
    if (!isTraceCarrier(t)) continue;
    const id = `${t.trace_id}-${t.span_id}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(t);
  }
  return out;
}

/** Links (no attributes: Deno's exporter supports none) to the contexts in `payload`. */
export function linksTo(payload: unknown): Link[] {
  return carriersIn(payload).map((t) => ({
    context: { traceId: t.trace_id, spanId: t.span_id, traceFlags: t.flags, isRemote: true },
  }));
}
