/**
 * Checks and normalises everything a caller hands to an add path (identifier,
 * payload, {@linkcode JobOptions}) before anything reaches the database. Every
 * problem is one {@linkcode ValidationError} naming the field, e.g.
 * `options.priority` or `jobs[3].options.jobKey`.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import type { TaskDefinition } from "../task/types.ts";
import type { JobKeyMode, JobOptions } from "./types.ts";
import { jsonProblem } from "./_json_check.ts";

/** The smallint range PostgreSQL uses for priority, attempts and max_attempts. */
export const SMALLINT_MIN = -32768;
/** Upper end of PostgreSQL's smallint. */
export const SMALLINT_MAX = 32767;

const JOB_KEY_MODES: readonly JobKeyMode[] = ["replace", "preserve_run_at", "unsafe_dedupe"];
/** The fields of {@linkcode JobOptions}. */
export const OPTION_KEYS: ReadonlySet<string> = new Set([
  "queueName",
  "runAt",
  "priority",
  "maxAttempts",
  "jobKey",
  "jobKeyMode",
  "flags",
]);

/** A job ready for the SQL layer: checked, defaults left to the database (null). */
export interface NormalizedJob {
  identifier: string;
  /** The payload as JSON text. */
  payloadJson: string;
  queueName: string | null;
  runAt: Date | null;
  maxAttempts: number | null;
  priority: number | null;
  jobKey: string | null;
  /** The key mode; "replace" when not given. Only meaningful with a `jobKey`. */
  jobKeyMode: JobKeyMode;
  flags: string[] | null;
}

/** Checked job options (no identifier or payload). */
export type NormalizedOptions = Omit<NormalizedJob, "identifier" | "payloadJson">;

/** One job as given to an add path, before checking. */
export interface JobInput {
  identifier: unknown;
  payload: unknown;
  options: unknown;
  /** For typed adds: the payload is checked against `task.payload` first. */
  task?: TaskDefinition<unknown>;
}

/** Count code points, as PostgreSQL's `length()` does, without always spreading. */
function charLength(s: string, max: number): number {
  if (s.length <= max) return s.length;
  if (s.length > max * 2) return s.length; // certainly more than max code points
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Check a string of 1–`max` characters. */
export function checkName(value: unknown, field: string, max: number): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ValidationError(field, `must be a non-empty string of at most ${max} characters`);
  }
  if (charLength(value, max) > max) {
    throw new ValidationError(field, `must be at most ${max} characters (got ${value.length})`);
  }
  return value;
}

/** Check an integer within [min, max]. */
export function checkInt(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(
      field,
      `must be an integer from ${min} to ${max} (got ${describe(value)})`,
    );
  }
  return value;
}

/** Check a valid `Date`. */
export function checkDate(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ValidationError(field, `must be a valid Date (got ${describe(value)})`);
  }
  return value;
}

/** Short description of a bad value for messages. */
export function describe(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : "a Date";
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (typeof value === "number" || typeof value === "boolean" || value == null) {
    return String(value);
  }
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Throw when `obj` has keys outside `allowed`; names them (catches typos like `jobkey`). */
export function rejectUnknownKeys(
  obj: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  field: string,
): void {
  const unknown = Object.keys(obj).filter((k) => !allowed.has(k));
  if (unknown.length > 0) {
    throw new ValidationError(
      field,
      `unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; ` +
        `allowed: ${[...allowed].join(", ")}`,
    );
  }
}

/**
 * Check job options; `field` is the path used in errors (`options`, `jobs[2].options`).
 * `undefined`/`null` options and option values mean "not set".
 */
export function normalizeJobOptions(options: unknown, field = "options"): NormalizedOptions {
  const out: NormalizedOptions = {
    queueName: null,
    runAt: null,
    maxAttempts: null,
    priority: null,
    jobKey: null,
    jobKeyMode: "replace",
    flags: null,
  };
  if (options == null) return out;
  if (!isPlainObject(options)) {
    throw new ValidationError(field, `must be an object (got ${describe(options)})`);
  }
  rejectUnknownKeys(options, OPTION_KEYS, field);
  const o = options as JobOptions & Record<string, unknown>;
  if (o.queueName != null) out.queueName = checkName(o.queueName, `${field}.queueName`, 128);
  if (o.runAt != null) out.runAt = checkDate(o.runAt, `${field}.runAt`);
  if (o.maxAttempts != null) {
    out.maxAttempts = checkInt(o.maxAttempts, `${field}.maxAttempts`, 1, SMALLINT_MAX);
  }
  if (o.priority != null) {
    out.priority = checkInt(o.priority, `${field}.priority`, SMALLINT_MIN, SMALLINT_MAX);
  }
  if (o.jobKey != null) out.jobKey = checkName(o.jobKey, `${field}.jobKey`, 512);
  if (o.jobKeyMode != null) {
    if (!JOB_KEY_MODES.includes(o.jobKeyMode)) {
      throw new ValidationError(
        `${field}.jobKeyMode`,
        `must be one of ${JOB_KEY_MODES.map((m) => `"${m}"`).join(", ")} (got ${
          describe(o.jobKeyMode)
        })`,
      );
    }
    out.jobKeyMode = o.jobKeyMode;
  }
  if (o.flags != null) {
    if (!Array.isArray(o.flags)) {
      throw new ValidationError(`${field}.flags`, `must be an array of non-empty strings`);
    }
    o.flags.forEach((flag, i) => {
      if (typeof flag !== "string" || flag.length === 0) {
        throw new ValidationError(
          `${field}.flags[${i}]`,
          `must be a non-empty string (got ${describe(flag)})`,
        );
      }
    });
    out.flags = [...o.flags];
  }
  return out;
}

/** Check that `task` looks like a {@linkcode TaskDefinition}. */
export function checkTask(task: unknown, field = "task"): TaskDefinition<unknown> {
  const t = task as Partial<TaskDefinition<unknown>> | null;
  if (
    typeof t !== "object" || t === null || typeof t.identifier !== "string" ||
    typeof (t.payload as { safeParse?: unknown } | undefined)?.safeParse !== "function"
  ) {
    throw new ValidationError(
      field,
      "must be a task from defineTask() (an object with identifier and a zod payload schema)",
    );
  }
  return t as TaskDefinition<unknown>;
}

/** Check a typed payload with the task's zod schema; a failure quotes zod's issues. */
function checkTypedPayload(task: TaskDefinition<unknown>, payload: unknown, field: string): void {
  const result = task.payload.safeParse(payload);
  if (result.success) return;
  const issues = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  throw new ValidationError(
    field,
    `does not match the schema of task "${task.identifier}": ${issues.join("; ")}`,
    { code: "INVALID_PAYLOAD", cause: result.error },
  );
}

/**
 * Check one job; `prefix` is `""` for single adds and `"jobs[3]."` in bulk.
 * Typed payloads are stored as given (the worker parses them again on run); a
 * top-level `null` payload is stored as `{}`, as graphile-worker does.
 */
export function normalizeJob(input: JobInput, prefix = ""): NormalizedJob {
  const identifier = checkName(input.identifier, `${prefix}identifier`, 128);
  const options = normalizeJobOptions(input.options, `${prefix}options`);
  if (input.task) checkTypedPayload(input.task, input.payload, `${prefix}payload`);
  const problem = jsonProblem(input.payload, `${prefix}payload`);
  if (problem) {
    throw new ValidationError(`${prefix}payload`, `must be JSON-serialisable: ${problem}`, {
      code: "INVALID_PAYLOAD",
    });
  }
  // A top-level null is stored as {} by add_jobs (SQL NULL); do the same everywhere.
  const payloadJson = input.payload === null ? "{}" : JSON.stringify(input.payload);
  // Spelled out rather than spread: this runs once per job in bulk adds.
  return {
    identifier,
    payloadJson,
    queueName: options.queueName,
    runAt: options.runAt,
    maxAttempts: options.maxAttempts,
    priority: options.priority,
    jobKey: options.jobKey,
    jobKeyMode: options.jobKeyMode,
    flags: options.flags,
  };
}

/**
 * Check a batch for one `add_jobs` call: every job as {@linkcode normalizeJob},
 * no `unsafe_dedupe` (the database's add_jobs has no such mode), and no job key
 * twice (one statement cannot update the same row twice).
 */
export function normalizeJobBatch(inputs: readonly JobInput[]): NormalizedJob[] {
  const seen = new Map<string, number>();
  return inputs.map((input, i) => {
    const job = normalizeJob(input, `jobs[${i}].`);
    if (job.jobKeyMode === "unsafe_dedupe") {
      throw new ValidationError(
        `jobs[${i}].options.jobKeyMode`,
        `"unsafe_dedupe" is only supported when adding a single job (addJob/addRawJob); ` +
          `bulk adds support "replace" and "preserve_run_at"`,
      );
    }
    if (job.jobKey !== null) {
      const first = seen.get(job.jobKey);
      if (first !== undefined) {
        throw new ValidationError(
          `jobs[${i}].options.jobKey`,
          `"${job.jobKey}" is also used by jobs[${first}]; one bulk add can use each key once`,
        );
      }
      seen.set(job.jobKey, i);
    }
    return job;
  });
}
