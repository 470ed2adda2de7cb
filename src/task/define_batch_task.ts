/**
 * `defineBatchTask`: a typed batch task. One job stores a JSON array of items;
 * `run` gets them all and may report a result per item, so that only the
 * failed items are retried.
 *
 * @module
 */
import { z } from "zod";
import { checkDefinition } from "./_checks.ts";
import { checkTaskOptions } from "./_task_options.ts";
import type { BatchRunResult } from "./batch_result.ts";
import type { BatchTaskDefinition, TaskContext } from "./types.ts";

/** What {@linkcode defineBatchTask} takes. */
export interface DefineBatchTaskOptions<S extends z.ZodType> {
  /** The `task_identifier` stored with each job (1–128 characters). */
  identifier: string;
  /** zod schema of ONE item; every item is checked when added and before the job runs. */
  item: S;
  /**
   * Runs the items of one job (in stored order). Return nothing to complete
   * the job, one `BatchResult` per item (same length and order) to retry
   * only the failed items, or throw to retry them all.
   */
  run: (
    items: z.output<S>[],
    ctx: TaskContext,
  ) => BatchRunResult | Promise<BatchRunResult>;
  /**
   * Time a job may run: a duration (`"30s"`, `"5m"`), milliseconds, or `"none"`
   * (no timeout even when the worker sets `jobTimeout`). When it expires the
   * job's `ctx.signal` is aborted and the attempt fails with "timed out after
   * 30 s" (retried as usual). Default: the worker's `jobTimeout`.
   */
  timeout?: string | number;
  /** Attempts before a job of this task is permanently failed (job options win). */
  maxAttempts?: number;
  /** Retry delay in seconds after a failure (instead of the worker's `backoff`). */
  backoff?: (attempts: number) => number;
  /** Named queue for the jobs of this task (job options win). */
  queueName?: string;
  /** Priority of the jobs of this task; lower runs first (job options win). */
  priority?: number;
}

/**
 * Define a batch task: a job's payload is a non-empty JSON array of items,
 * each checked against `item`. Pass the result to `createWorker({ tasks })`
 * and add jobs with `utils.addBatchJob(task, items, options)` (or
 * `ctx.addBatchJob` inside a task).
 *
 * Results: returning nothing completes the job; throwing fails it and retries
 * every item; returning one `BatchResult` per item completes the job when all
 * are ok, and otherwise fails it with only the failed items (their original
 * stored values) as the retry payload, recording e.g.
 * `2 of 10 items failed: [3] timeout; [7] bounced` as its last error. A result
 * list of the wrong length fails the job and retries every item.
 *
 * Debouncing: items added with the same `jobKey` while the job is waiting are
 * appended to it (the database concatenates array payloads), so a burst of
 * `addBatchJob` calls becomes one job. With the default `jobKeyMode:
 * "replace"`, each add also moves `runAt` (debounce: run after the last add);
 * with `"preserve_run_at"` the first `runAt` stands (a fixed window). Items
 * added while the keyed job is running go into a new job. Do not use
 * `"unsafe_dedupe"`: it keeps the waiting job and drops the new items.
 *
 * @example
 * ```ts
 * import { BatchResult, defineBatchTask } from "@spool/worker";
 * import { z } from "zod";
 *
 * export const sendNotifications = defineBatchTask({
 *   identifier: "send_notifications",
 *   item: z.object({ userId: z.string(), message: z.string() }),
 *   async run(items, ctx) {
 *     ctx.logger.info(`sending ${items.length} notifications`);
 *     const settled = await Promise.allSettled(items.map(async (item) => item.userId));
 *     return BatchResult.fromSettled(settled); // rejected items are retried alone
 *   },
 * });
 *
 * // Elsewhere: a burst of adds within 5 s becomes one job per user.
 * // await utils.addBatchJob(sendNotifications, [{ userId: "42", message: "hi" }], {
 * //   jobKey: "notify:42",
 * //   runAt: new Date(Date.now() + 5_000),
 * // });
 * ```
 */
export function defineBatchTask<S extends z.ZodType>(
  options: DefineBatchTaskOptions<S>,
): BatchTaskDefinition<z.output<S>> {
  const { identifier, schema, run } = checkDefinition(
    options,
    "defineBatchTask",
    "item",
    "a zod schema of one item",
  );
  const item = schema as z.ZodType;
  type I = z.output<S>;
  const settings = checkTaskOptions(options as unknown as Record<string, unknown>, identifier);
  return Object.freeze({
    kind: "batch" as const,
    identifier,
    item: item as z.ZodType<I>,
    payload: z.array(item).min(1) as unknown as z.ZodType<I[]>,
    run: run as BatchTaskDefinition<I>["run"],
    ...settings,
  });
}
