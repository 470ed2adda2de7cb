/**
 * Running one batch job: check the stored array, run the task, and turn what
 * it returned into an outcome (complete, or fail with an optional
 * replacement payload holding only the failed items).
 *
 * A throw from `run` is not caught here: the pool records it as a whole-job
 * failure and the original payload is kept.
 *
 * @module
 */
import { BatchResult } from "../task/batch_result.ts";
import type { BatchTaskDefinition, TaskContext } from "../task/types.ts";
import { listParts, parseStoredBatch } from "../utils/_batch_items.ts";

/** What became of a batch job: nothing to record (complete), or a failure. */
export interface BatchOutcome {
  /** Set when the job failed: its `last_error`. */
  failure?: string;
  /** Set on a partial failure: the items to retry (original stored values). */
  retryPayload?: unknown[];
}

/** Longest text kept from one item's error. */
const MAX_ITEM_ERROR = 200;

function itemError(error: unknown): string {
  let text: string;
  if (error instanceof Error) text = error.message || error.name;
  else if (typeof error === "string") text = error;
  else text = String(error);
  return text.length > MAX_ITEM_ERROR ? `${text.slice(0, MAX_ITEM_ERROR)}…` : text;
}

/**
 * Interpret what a batch task returned for `raw` (the stored items).
 * See `BatchResult` for the rules.
 */
export function settleBatch(
  identifier: string,
  raw: readonly unknown[],
  returned: unknown,
): BatchOutcome {
  if (returned === undefined || returned === null) return {};
  if (!Array.isArray(returned)) {
    if (BatchResult.is(returned) && !returned.ok) {
      return { failure: itemError(returned.error) };
    }
    return {}; // a single ok result, or any other value: complete, as for defineTask
  }
  const n = raw.length;
  if (returned.length !== n) {
    return {
      failure: `Batch task "${identifier}" returned ${returned.length} result(s) for ${n} ` +
        `item(s); return one BatchResult per item, in order. Retrying all ${n} item(s)`,
    };
  }
  const notResults = returned.flatMap((r, i) => BatchResult.is(r) ? [] : [i]);
  if (notResults.length > 0) {
    return {
      failure: `Batch task "${identifier}" returned values that are not BatchResults at ` +
        `${listParts(notResults.map((i) => `[${i}]`))}; use BatchResult.ok() / ` +
        `BatchResult.fail(error). Retrying all ${n} item(s)`,
    };
  }
  const failed: number[] = [];
  const parts: string[] = [];
  (returned as BatchResult[]).forEach((r, i) => {
    if (r.ok) return;
    failed.push(i);
    parts.push(`[${i}] ${itemError(r.error)}`);
  });
  if (failed.length === 0) return {};
  return {
    failure: `${failed.length} of ${n} items failed: ${listParts(parts)}`,
    retryPayload: failed.map((i) => raw[i]),
  };
}

/**
 * Check the stored payload, run the task on the parsed items, settle the
 * result. `makeContext` is called only when the task runs.
 */
export async function runBatchJob(
  task: BatchTaskDefinition<unknown>,
  payload: unknown,
  makeContext: () => TaskContext,
): Promise<BatchOutcome> {
  const stored = parseStoredBatch(task, payload);
  if (!stored.ok) return { failure: stored.reason };
  const returned = await task.run(stored.items, makeContext());
  return settleBatch(task.identifier, stored.raw, returned);
}
