/**
 * Public types of the enqueue side: job rows, job options, the adder interface.
 *
 * @module
 */
import type { BatchTaskDefinition, TaskDefinition } from "../task/types.ts";
import type { Queryable } from "../driver/types.ts";

/** How a new job treats an existing job with the same `jobKey` (graphile-worker's modes). */
export type JobKeyMode = "replace" | "preserve_run_at" | "unsafe_dedupe";

/** Options for one job (graphile-worker's `TaskSpec` / the seeds' `JobSpec`). */
export interface JobOptions {
  /** Named queue: jobs in one queue run one at a time, in order. */
  queueName?: string;
  /** Earliest time to run (default: now). */
  runAt?: Date;
  /** Lower runs first (default 0); a smallint. */
  priority?: number;
  /** Attempts before the job is permanently failed (default 25; 1–32767). */
  maxAttempts?: number;
  /** Unique key for replacing/deduplicating a pending job (1–512 characters). */
  jobKey?: string;
  /** What to do when `jobKey` matches an existing job (default "replace"). */
  jobKeyMode?: JobKeyMode;
  /** Flags a worker can refuse with `forbiddenFlags`. */
  flags?: string[];
}

/** A job given by identifier and raw JSON payload (for mixed bulk inserts). */
export interface RawJobSpec {
  /** Task identifier. */
  identifier: string;
  /** JSON payload (default `{}`). */
  payload?: unknown;
  /** Job options. */
  options?: JobOptions;
}

/** A job row, as in the `jobs` view. */
export interface Job {
  /** bigint id, as a string. */
  id: string;
  /** Named queue, if any (its jobs run one at a time). */
  queueName: string | null;
  /** Task identifier. */
  taskIdentifier: string;
  /** JSON payload. */
  payload: unknown;
  /** Priority; lower runs first. */
  priority: number;
  /** Earliest time the job may run (after a failure: when it is retried). */
  runAt: Date;
  /** Attempts made so far. */
  attempts: number;
  /** Attempts allowed; at this count the job is kept, permanently failed. */
  maxAttempts: number;
  /** Error of the last failed attempt. */
  lastError: string | null;
  /** When the job was added. */
  createdAt: Date;
  /** When the row last changed. */
  updatedAt: Date;
  /** Job key, if the job was added with one. */
  key: string | null;
  /** When a worker locked the job (it is running), else null. */
  lockedAt: Date | null;
  /** Id of the worker holding the job, else null. */
  lockedBy: string | null;
  /** Times the job was replaced through its key. */
  revision: number;
  /** Flag names set on the job (from the stored `{"flag": true}` object). */
  flags: string[];
}

/** Adding jobs: shared by WorkerUtils, the task context, and transaction-bound adders. */
export interface JobAdder {
  /** Add one job for a typed task; the payload is checked against the task's schema first. */
  addJob<P>(task: TaskDefinition<P>, payload: P, options?: JobOptions): Promise<Job>;
  /** Add one job by identifier with an unchecked JSON payload. */
  addRawJob(identifier: string, payload?: unknown, options?: JobOptions): Promise<Job>;
  /** Add many jobs of one typed task in one round trip. */
  addJobs<P>(
    task: TaskDefinition<P>,
    jobs: ReadonlyArray<{ payload: P; options?: JobOptions }>,
  ): Promise<Job[]>;
  /** Add many jobs with mixed identifiers in one round trip. */
  addRawJobs(jobs: ReadonlyArray<RawJobSpec>): Promise<Job[]>;
  /**
   * {@linkcode JobAdder.addJobs} for bulk loads that need no rows back: the
   * same checks, keys and single statement, but only the number of jobs
   * added returns (no rows travel back or are mapped). With `beforeJobSchedule`
   * or `job:added` hooks registered it takes the full path (they need the jobs).
   */
  addJobsFast<P>(
    task: TaskDefinition<P>,
    jobs: ReadonlyArray<{ payload: P; options?: JobOptions }>,
  ): Promise<number>;
  /** {@linkcode JobAdder.addRawJobs} returning only the number of jobs added (see `addJobsFast`). */
  addRawJobsFast(jobs: ReadonlyArray<RawJobSpec>): Promise<number>;
  /**
   * Add one batch job: `items` (non-empty, each checked against the task's item
   * schema) stored as one JSON array. With a `jobKey`, items added while the
   * keyed job waits are appended to it (a burst becomes one job); while it
   * runs, they go into a new job.
   */
  addBatchJob<I>(
    task: BatchTaskDefinition<I>,
    items: readonly I[],
    options?: JobOptions,
  ): Promise<Job>;
}

/** Something jobs can be added through inside the caller's own transaction. */
export type TransactionLike = Queryable;

/** Fields `rescheduleJobs` can change; omitted fields keep their current value. */
export interface RescheduleOptions {
  /** New earliest run time. */
  runAt?: Date;
  /** New priority (smallint). */
  priority?: number;
  /** New attempt count (0–32767); 0 gives a failed job all its attempts back. */
  attempts?: number;
  /** New attempt limit (1–32767). */
  maxAttempts?: number;
}

/** Maintenance tasks for `cleanup` (graphile-worker's names). */
export type CleanupTask = "GC_TASK_IDENTIFIERS" | "GC_JOB_QUEUES" | "DELETE_PERMAFAILED_JOBS";

/** Options for `cleanup`. */
export interface CleanupOptions {
  /** What to do (default, as in graphile-worker: GC_JOB_QUEUES and GC_TASK_IDENTIFIERS). */
  tasks?: CleanupTask[];
  /** Task identifiers GC_TASK_IDENTIFIERS must keep (e.g. those of running workers). */
  taskIdentifiersToKeep?: string[];
}

/** What `cleanup` removed. */
export interface CleanupResult {
  /** Jobs removed by DELETE_PERMAFAILED_JOBS. */
  deletedJobs: number;
  /** Task identifiers removed by GC_TASK_IDENTIFIERS. */
  deletedTaskIdentifiers: number;
  /** Queues removed by GC_JOB_QUEUES. */
  deletedJobQueues: number;
}
