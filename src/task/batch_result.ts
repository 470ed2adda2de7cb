/**
 * Per-item results of a batch task: `BatchResult` (type and helpers).
 *
 * A batch task's `run(items, ctx)` may return:
 * - nothing: the whole job completes;
 * - one `BatchResult` per item, same length and order as `items`: the job
 *   completes when every result is ok; otherwise it fails and is retried with
 *   only the failed items (their original stored values);
 * - a single `BatchResult`: ok completes the whole job, a failure fails it
 *   and retries every item.
 * Throwing fails the whole job and retries every item.
 *
 * @module
 */

/**
 * The outcome of one item of a batch: `{ ok: true }` or
 * `{ ok: false, error }`. Build them with `BatchResult.ok()` and
 * `BatchResult.fail(error)`.
 */
export type BatchResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: string | Error };

/** What a batch task's `run` may return (see the module doc). */
export type BatchRunResult = void | undefined | BatchResult | readonly BatchResult[];

/** Helpers that build {@linkcode BatchResult}s. */
export interface BatchResultHelpers {
  /** The item succeeded. */
  ok(): BatchResult;
  /**
   * The item failed; it stays in the retry payload. `error` is kept when it
   * is an `Error` or a string; anything else is turned into a string.
   */
  fail(error: unknown): BatchResult;
  /**
   * One result per settled promise, e.g. from
   * `Promise.allSettled(items.map(send))`: fulfilled is ok, rejected fails
   * with the rejection reason.
   */
  fromSettled(results: readonly PromiseSettledResult<unknown>[]): BatchResult[];
  /** True when `value` is a {@linkcode BatchResult}. */
  is(value: unknown): value is BatchResult;
}

const OK: BatchResult = Object.freeze({ ok: true as const });

function toError(error: unknown): string | Error {
  if (typeof error === "string" || error instanceof Error) return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/**
 * Build per-item results for a batch task.
 *
 * @example
 * ```ts
 * import { BatchResult, defineBatchTask } from "@spool/worker";
 * import { z } from "zod";
 *
 * export const notify = defineBatchTask({
 *   identifier: "notify",
 *   item: z.object({ userId: z.string() }),
 *   async run(items) {
 *     const results: BatchResult[] = [];
 *     for (const item of items) {
 *       try {
 *         await Promise.resolve(item.userId); // send the notification here
 *         results.push(BatchResult.ok());
 *       } catch (error) {
 *         results.push(BatchResult.fail(error)); // only this item is retried
 *       }
 *     }
 *     return results;
 *   },
 * });
 * ```
 */
export const BatchResult: BatchResultHelpers = Object.freeze({
  ok(): BatchResult {
    return OK;
  },
  fail(error: unknown): BatchResult {
    return Object.freeze({ ok: false as const, error: toError(error) });
  },
  fromSettled(results: readonly PromiseSettledResult<unknown>[]): BatchResult[] {
    return results.map((r) =>
      r.status === "fulfilled" ? OK : BatchResult.fail(r.reason ?? "rejected")
    );
  },
  is(value: unknown): value is BatchResult {
    if (typeof value !== "object" || value === null) return false;
    const ok = (value as { ok?: unknown }).ok;
    return ok === true || ok === false;
  },
});
