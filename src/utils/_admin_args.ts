/**
 * Argument checks for the WorkerUtils admin methods.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import type { RescheduleParams } from "../sql/jobs_admin.ts";
import {
  checkDate,
  checkInt,
  describe,
  rejectUnknownKeys,
  SMALLINT_MAX,
  SMALLINT_MIN,
} from "./job_options.ts";
import type { CleanupOptions, CleanupTask, RescheduleOptions } from "./types.ts";

const INT8_MAX = 9223372036854775807n;

/** One job id: a numeric string within PostgreSQL's bigint range. */
export function checkId(id: unknown, field = "id"): string {
  if (typeof id !== "string" || !/^[0-9]{1,19}$/.test(id) || BigInt(id) > INT8_MAX) {
    throw new ValidationError(
      field,
      `must be a job id: a string of digits within bigint range (got ${describe(id)})`,
    );
  }
  return id;
}

/** Job ids: an array of numeric strings (PostgreSQL bigint). */
export function checkIds(ids: unknown, field = "ids"): string[] {
  if (!Array.isArray(ids)) {
    throw new ValidationError(field, "must be an array of job ids (numeric strings)");
  }
  return ids.map((id, i) => checkId(id, `${field}[${i}]`));
}

/** An array of non-empty strings (worker ids, task identifiers). */
export function checkStrings(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw new ValidationError(field, "must be an array of strings");
  return value.map((s, i) => {
    if (typeof s !== "string" || s.length === 0) {
      throw new ValidationError(
        `${field}[${i}]`,
        `must be a non-empty string (got ${describe(s)})`,
      );
    }
    return s;
  });
}

/** A non-empty string. */
export function checkString(value: unknown, field: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ValidationError(field, `must be a non-empty string (got ${describe(value)})`);
  }
  return value;
}

const RESCHEDULE_KEYS: ReadonlySet<string> = new Set([
  "runAt",
  "priority",
  "attempts",
  "maxAttempts",
]);

/** Options of `rescheduleJobs`; unset fields become null (keep the current value). */
export function checkReschedule(options: unknown, field = "options"): RescheduleParams {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ValidationError(
      field,
      "must be an object { runAt?, priority?, attempts?, maxAttempts? }",
    );
  }
  rejectUnknownKeys(options as Record<string, unknown>, RESCHEDULE_KEYS, field);
  const o = options as RescheduleOptions;
  return {
    runAt: o.runAt == null ? null : checkDate(o.runAt, `${field}.runAt`),
    priority: o.priority == null
      ? null
      : checkInt(o.priority, `${field}.priority`, SMALLINT_MIN, SMALLINT_MAX),
    attempts: o.attempts == null
      ? null
      : checkInt(o.attempts, `${field}.attempts`, 0, SMALLINT_MAX),
    maxAttempts: o.maxAttempts == null
      ? null
      : checkInt(o.maxAttempts, `${field}.maxAttempts`, 1, SMALLINT_MAX),
  };
}

const CLEANUP_TASKS: readonly CleanupTask[] = [
  "GC_TASK_IDENTIFIERS",
  "GC_JOB_QUEUES",
  "DELETE_PERMAFAILED_JOBS",
];
const CLEANUP_KEYS: ReadonlySet<string> = new Set(["tasks", "taskIdentifiersToKeep"]);

/** Checked cleanup options. */
export interface CleanupPlan {
  tasks: Set<CleanupTask>;
  keep: string[];
}

/**
 * Options of `cleanup`, with graphile-worker's defaults: no argument runs
 * GC_JOB_QUEUES only; an options object without `tasks` runs both GC tasks.
 */
export function checkCleanup(options: CleanupOptions | undefined, field = "options"): CleanupPlan {
  if (options === undefined) return { tasks: new Set(["GC_JOB_QUEUES"]), keep: [] };
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ValidationError(field, "must be an object { tasks?, taskIdentifiersToKeep? }");
  }
  rejectUnknownKeys(options as Record<string, unknown>, CLEANUP_KEYS, field);
  const tasks = options.tasks ?? ["GC_JOB_QUEUES", "GC_TASK_IDENTIFIERS"];
  if (!Array.isArray(tasks)) throw new ValidationError(`${field}.tasks`, "must be an array");
  tasks.forEach((t, i) => {
    if (!CLEANUP_TASKS.includes(t)) {
      throw new ValidationError(
        `${field}.tasks[${i}]`,
        `must be one of ${CLEANUP_TASKS.join(", ")} (got ${describe(t)})`,
      );
    }
  });
  const keep = options.taskIdentifiersToKeep == null
    ? []
    : checkStrings(options.taskIdentifiersToKeep, `${field}.taskIdentifiersToKeep`);
  return { tasks: new Set(tasks), keep };
}
