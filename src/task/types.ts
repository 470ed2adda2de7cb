/**
 * Task definitions and the context a task runs with.
 *
 * @module
 */
import type { z } from "zod";
import type { Logger } from "../logger.ts";
import type { Driver, Queryable, QueryResult } from "../driver/types.ts";
import type { JobAdder } from "../utils/types.ts";
import type { ExtensionKey } from "./extension.ts";
import type { BatchRunResult } from "./batch_result.ts";

/** What a task sees of the job it runs. */
export interface JobInfo {
  /** bigint id, as a string. */
  id: string;
  /** Task identifier. */
  identifier: string;
  /** Attempts including this one. */
  attempts: number;
  /** Attempts allowed before the job fails permanently. */
  maxAttempts: number;
  /** Job key, if the job was added with one. */
  key: string | null;
  /** Named queue, if any (its jobs run one at a time). */
  queueName: string | null;
  /** When the job was due. */
  runAt: Date;
  /** Priority; lower runs first. */
  priority: number;
  /** Flags the job was added with. */
  flags: string[];
  /** When the job was added. */
  createdAt: Date;
}

/** Everything a running task gets besides its payload. */
export interface TaskContext extends JobAdder {
  /** The job being run. */
  readonly job: JobInfo;
  /** A logger whose lines carry the job's id and identifier. */
  readonly logger: Logger;
  /**
   * This job's own signal: aborted when its timeout expires, when it is
   * cancelled, when the worker loses its lock on it, or when the worker shuts
   * down past its grace period. `signal.reason` is a `JobAbortedError` whose
   * `kind` says which. Stop work and throw (or return) soon: a task that
   * ignores it has its outcome discarded after a short grace.
   */
  readonly signal: AbortSignal;
  /** Run a query on the worker's pool. */
  query<R = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>>;
  /** Run `fn` in a transaction on the worker's pool. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Application state given to the worker with `extensions` (never stored in payloads). */
  ext<T>(key: ExtensionKey<T>): T;
}

/** Defaults for the jobs of one task (added through its definition); job options win. */
export interface TaskJobDefaults {
  /** Attempts before a job is permanently failed. */
  readonly maxAttempts?: number;
  /** Named queue of the task's jobs. */
  readonly queueName?: string;
  /** Priority of the task's jobs (lower runs first). */
  readonly priority?: number;
}

/** Per-task settings shared by plain and batch tasks. */
export interface TaskSettings {
  /**
   * Milliseconds a job of this task may run before its signal is aborted and
   * the attempt fails ("timed out after 30 s"); `null`: no timeout, whatever
   * the worker's default; absent: the worker's `jobTimeout`.
   */
  readonly timeout?: number | null;
  /** Retry delay (seconds) after a failure of this task, instead of the worker's `backoff`. */
  readonly backoff?: (attempts: number) => number;
  /** Defaults for jobs added with this definition (`addJob`, `addJobs`, `addBatchJob`). */
  readonly jobDefaults?: TaskJobDefaults;
}

/** A typed task: identifier, payload schema, and the function that runs it. */
export interface TaskDefinition<P = unknown> extends TaskSettings {
  /** Tells plain tasks from batch tasks. */
  readonly kind: "task";
  /** The `task_identifier` stored with each job (1–128 characters). */
  readonly identifier: string;
  /** zod schema the payload is checked against on add and before run. */
  readonly payload: z.ZodType<P>;
  /** Runs one job. Returning completes it; throwing fails it (it is retried with backoff). */
  readonly run: (payload: P, ctx: TaskContext) => unknown | Promise<unknown>;
}

/**
 * A typed batch task (made with `defineBatchTask`): one job whose payload is
 * a non-empty JSON array of items, run together. See `BatchResult` for what
 * `run` may return.
 */
export interface BatchTaskDefinition<I = unknown> extends TaskSettings {
  /** Tells batch tasks from plain tasks. */
  readonly kind: "batch";
  /** The `task_identifier` stored with each job (1–128 characters). */
  readonly identifier: string;
  /** zod schema of one item; every item is checked on add and before run. */
  readonly item: z.ZodType<I>;
  /** zod schema of the whole stored payload: a non-empty array of `item`. */
  readonly payload: z.ZodType<I[]>;
  /**
   * Runs the items of one job. Returning nothing completes the job; returning
   * one `BatchResult` per item retries only the failed items; throwing
   * retries every item.
   */
  readonly run: (items: I[], ctx: TaskContext) => BatchRunResult | Promise<BatchRunResult>;
}

/** Type of the driver used inside a context (re-exported for implementers). */
export type ContextDriver = Driver;
