/**
 * JSON shapes the admin API answers with (camelCase, ISO dates).
 *
 * @module
 */
import type { AdminJobRow, JobState } from "../sql/admin_jobs.ts";
import type { Job } from "../utils/types.ts";

/** A job as the admin API shows it. */
export interface JobDto {
  /** bigint id, as a string. */
  id: string;
  /** Task identifier. */
  taskIdentifier: string;
  /** Named queue, or null. */
  queueName: string | null;
  /** The JSON payload. */
  payload: unknown;
  /** Lower runs first. */
  priority: number;
  /** Earliest run time (ISO). */
  runAt: string;
  /** Attempts made so far. */
  attempts: number;
  /** Attempts allowed. */
  maxAttempts: number;
  /** Error of the last failed attempt. */
  lastError: string | null;
  /** When it was added (ISO). */
  createdAt: string;
  /** Last change (ISO). */
  updatedAt: string;
  /** Job key, or null. */
  key: string | null;
  /** When a worker locked it (ISO), or null. */
  lockedAt: string | null;
  /** The worker holding it, or null. */
  lockedBy: string | null;
  /** Bumped on every change by the SQL functions. */
  revision: number;
  /** The stored flags object (`{"flag": true}`), or null. */
  flags: Record<string, unknown> | null;
  /** graphile-worker's `is_available`: not locked, attempts left. */
  isAvailable: boolean;
  /** Derived state (see `JOB_STATES`). */
  state: JobState;
}

/** An ISO string for a Date or a timestamp the driver gave as text. */
export function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** An ISO string or null. */
export function isoOrNull(value: Date | string | null): string | null {
  return value == null ? null : iso(value);
}

/** The DTO of one admin job row. */
export function jobDto(row: AdminJobRow): JobDto {
  const flags = typeof row.flags === "string" ? JSON.parse(row.flags) : row.flags;
  return {
    id: String(row.id),
    taskIdentifier: row.task_identifier ?? "",
    queueName: row.job_queue_id == null ? null : row.queue_name,
    payload: row.payload,
    priority: Number(row.priority),
    runAt: iso(row.run_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    lastError: row.last_error,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    key: row.key,
    lockedAt: isoOrNull(row.locked_at),
    lockedBy: row.locked_by,
    revision: Number(row.revision),
    flags: flags ?? null,
    isAvailable: row.is_available === true || String(row.is_available) === "t",
    state: row.state,
  };
}

/** The DTO of a {@linkcode Job} WorkerUtils returned (no state: read the job again for it). */
export function utilsJobDto(job: Job): Omit<JobDto, "state" | "isAvailable" | "flags"> & {
  flags: string[];
} {
  return {
    id: job.id,
    taskIdentifier: job.taskIdentifier,
    queueName: job.queueName,
    payload: job.payload,
    priority: job.priority,
    runAt: iso(job.runAt),
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    lastError: job.lastError,
    createdAt: iso(job.createdAt),
    updatedAt: iso(job.updatedAt),
    key: job.key,
    lockedAt: job.lockedAt ? iso(job.lockedAt) : null,
    lockedBy: job.lockedBy,
    revision: job.revision,
    flags: job.flags,
  };
}
