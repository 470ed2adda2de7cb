/**
 * Throughput options of `createWorker`: the local queue and the completion /
 * failure batch delays. Checked with zod (as part of the worker options) and
 * resolved to concrete values here.
 *
 * @module
 */
import { z } from "zod";
import type { LocalQueueOptions, RefetchDelayOptions } from "./local_queue.ts";

/** The throughput options after defaults. */
export interface ResolvedThroughputOptions {
  localQueue: {
    size: number;
    /** Largest size the queue may grow to; above `size` only for the default queue. */
    maxSize: number;
    ttl: number;
    refetchDelay: Required<RefetchDelayOptions> | undefined;
  };
  /** Milliseconds completions wait to be batched; -1 writes at once (batching only while a write is in flight). */
  completeJobBatchDelay: number;
  /** Milliseconds failures wait to be batched; -1 as above. */
  failJobBatchDelay: number;
}

/** Default local queue size for a worker of `concurrency` slots. */
export function defaultLocalQueueSize(concurrency: number): number {
  return Math.min(500, Math.max(4, 4 * concurrency));
}

/** The default local queue grows up to this many jobs while slots run dry. */
export const DEFAULT_LOCAL_QUEUE_MAX_SIZE = 500;

/** Default milliseconds a fetched job may wait in the local queue. */
export const DEFAULT_LOCAL_QUEUE_TTL = 60_000;

const count = (what: string) =>
  z.number({ message: `must be a whole number (${what})` })
    .int({ message: `must be a whole number (${what})` })
    .min(0, { message: `must be 0 or more (${what})` })
    .max(100_000, { message: `must be at most 100000 (${what})` });

const ms = (what: string) =>
  z.number({ message: `must be a number of milliseconds (${what})` })
    .int({ message: `must be a whole number of milliseconds (${what})` })
    .min(0, { message: `must be 0 or more milliseconds (${what})` })
    .max(2_147_483_647, { message: `must be at most 2147483647 milliseconds (${what})` });

const batchDelay = (what: string) =>
  z.number({ message: `must be -1 (no delay) or a number of milliseconds (${what})` })
    .int({ message: `must be a whole number of milliseconds (${what})` })
    .min(-1, { message: `must be -1 (no delay) or 0 or more milliseconds (${what})` })
    .max(60_000, { message: `must be at most 60000 milliseconds (${what})` });

/** zod shapes merged into the worker options schema. */
export const throughputOptionShapes = {
  // `false` means `{ size: 0 }`; preprocessing (not a union) keeps errors on the nested field.
  localQueue: z.preprocess(
    (v) => (v === false ? { size: 0 } : v),
    z.strictObject({
      size: count("jobs fetched ahead; 0 turns the local queue off"),
      ttl: ms("how long a fetched job may wait before it is handed back").min(1, {
        message: "must be at least 1 millisecond",
      }).optional(),
      refetchDelay: z.strictObject({
        durationMs: ms("pause after a fetch that found (almost) nothing"),
        threshold: count("a fetch of this many jobs or fewer starts the pause").optional(),
        maxAbortThreshold: z.union([
          count("notifications that may end the pause early"),
          z.literal(Infinity),
        ], { message: "must be a whole number of notifications, or Infinity" }).optional(),
      }, { message: "must be { durationMs, threshold?, maxAbortThreshold? }" }).optional(),
    }, { message: "must be { size, ttl?, refetchDelay? } or false" }),
  ).optional(),
  completeJobBatchDelay: batchDelay("completion batching").optional(),
  failJobBatchDelay: batchDelay("failure batching").optional(),
};

/** The user's throughput options (a subset of `WorkerOptions`). */
export interface ThroughputOptions {
  localQueue?: LocalQueueOptions | false;
  completeJobBatchDelay?: number;
  failJobBatchDelay?: number;
}

/** Apply defaults; `localQueue` on by default with {@linkcode defaultLocalQueueSize}. */
export function resolveThroughputOptions(
  o: ThroughputOptions,
  concurrency: number,
): ResolvedThroughputOptions {
  const lq = o.localQueue;
  const size = lq === false ? 0 : lq?.size ?? defaultLocalQueueSize(concurrency);
  // Only the default queue grows: a size the user chose is kept.
  const maxSize = lq === undefined ? Math.max(size, DEFAULT_LOCAL_QUEUE_MAX_SIZE) : size;
  // (after zod, `false` arrives as `{ size: 0 }`; both are handled)
  const rd = lq ? lq.refetchDelay : undefined;
  return {
    localQueue: {
      size,
      maxSize,
      ttl: (lq ? lq.ttl : undefined) ?? DEFAULT_LOCAL_QUEUE_TTL,
      refetchDelay: rd
        ? {
          durationMs: rd.durationMs,
          threshold: rd.threshold ?? 0,
          maxAbortThreshold: rd.maxAbortThreshold ?? 5 * Math.max(1, size),
        }
        : undefined,
    },
    completeJobBatchDelay: o.completeJobBatchDelay ?? -1,
    failJobBatchDelay: o.failJobBatchDelay ?? -1,
  };
}
