/**
 * The per-task options shared by `defineTask` and `defineBatchTask`: a
 * timeout and defaults for the jobs of the task (attempts, backoff, queue,
 * priority). Checked once, at definition time.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { parseDuration } from "../internal/duration.ts";
import { normalizeJobOptions } from "../utils/job_options.ts";
import type { TaskJobDefaults } from "./types.ts";

/** Longest timeout a timer can hold (setTimeout's 32-bit limit). */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** A timeout as written by users: a duration ("30s", "5m"), milliseconds, or "none". */
export type TimeoutInput = string | number;

/** The per-task options after checking. */
export interface CheckedTaskOptions {
  /** Milliseconds; `null` for "none" (no timeout even if the worker has a default); undefined: the worker's default. */
  timeout: number | null | undefined;
  /** Retry delay of this task's failures (seconds), instead of the worker's. */
  backoff: ((attempts: number) => number) | undefined;
  /** Defaults for jobs added through the task definition; job options win. */
  jobDefaults: TaskJobDefaults | undefined;
}

/**
 * Check a timeout: `"none"`, a duration like `"30s"`/`"1m 30s"`, or whole
 * milliseconds from 1 to 2147483647. Returns `null` for "none".
 */
export function checkTimeout(value: unknown, field: string): number | null {
  if (value === "none") return null;
  let ms: number | undefined;
  try {
    if (typeof value === "number" || typeof value === "string") ms = parseDuration(value, field);
  } catch { /* reported below with the accepted forms */ }
  if (ms === undefined || ms < 1 || ms > MAX_TIMEOUT_MS) {
    throw new ValidationError(
      field,
      `must be "none", a duration such as "30s" or "5m", or whole milliseconds from 1 to ` +
        `${MAX_TIMEOUT_MS} (got ${JSON.stringify(value)})`,
    );
  }
  return ms;
}

/** Check the optional per-task fields of a task definition (`identifier` names it in errors). */
export function checkTaskOptions(
  o: Record<string, unknown>,
  identifier: string,
): CheckedTaskOptions {
  const where = ` (task "${identifier}")`;
  const timeout = o.timeout === undefined ? undefined : checkTimeout(o.timeout, "timeout");
  if (o.backoff !== undefined && typeof o.backoff !== "function") {
    throw new ValidationError("backoff", `must be a function (attempts) => seconds${where}`);
  }
  let jobDefaults: TaskJobDefaults | undefined;
  if (o.maxAttempts !== undefined || o.queueName !== undefined || o.priority !== undefined) {
    // The same checks as job options, reported under the definition's own field names.
    const n = normalizeJobOptions(
      { maxAttempts: o.maxAttempts, queueName: o.queueName, priority: o.priority },
      "task",
    );
    jobDefaults = Object.freeze({
      maxAttempts: n.maxAttempts ?? undefined,
      queueName: n.queueName ?? undefined,
      priority: n.priority ?? undefined,
    });
  }
  return {
    timeout,
    backoff: o.backoff as CheckedTaskOptions["backoff"],
    jobDefaults,
  };
}
