/**
 * The context a task runs with (`TaskContext`). One small object per job;
 * the logger is created only when a task uses it.
 *
 * @module
 */
import type { Driver, Queryable, QueryResult } from "../driver/types.ts";
import { type Logger, scopedLogger } from "../logger.ts";
import type { ExtensionKey, ExtensionMap } from "../task/extension.ts";
import type { BatchTaskDefinition, JobInfo, TaskContext, TaskDefinition } from "../task/types.ts";
import type { Job, JobAdder, JobOptions, RawJobSpec } from "../utils/types.ts";
import type { FetchedJob } from "./fetcher.ts";

/** What every job context of one worker shares. */
export interface ContextShared {
  /** Adds jobs (WorkerUtils). */
  adder: JobAdder;
  /** The worker's pool. */
  db: Driver;
  /** The worker's logger. */
  logger: Logger;
  /** Application state. */
  extensions: ExtensionMap;
  /** The worker's id, for log lines. */
  workerId: string;
}

/** The public view of a fetched job. */
export function jobInfo(row: FetchedJob): JobInfo {
  return {
    id: row.id,
    identifier: row.identifier,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    key: row.key,
    queueName: row.queue_name,
    runAt: row.run_at,
    priority: row.priority,
    flags: row.flags ? Object.keys(row.flags) : [],
    createdAt: row.created_at,
  };
}

/** Where a context's signal comes from: the running job, which creates it on first use. */
export interface SignalSource {
  readonly signal: AbortSignal;
}

/** `TaskContext` for one job. */
export class JobContext implements TaskContext {
  readonly job: JobInfo;
  #shared: ContextShared;
  #logger: Logger | undefined;
  #signal: SignalSource;

  constructor(shared: ContextShared, job: JobInfo, signal: SignalSource) {
    this.#shared = shared;
    this.job = job;
    this.#signal = signal;
  }

  /** This job's own signal (see `TaskContext.signal`). */
  get signal(): AbortSignal {
    return this.#signal.signal;
  }

  get logger(): Logger {
    return this.#logger ??= scopedLogger(this.#shared.logger, {
      workerId: this.#shared.workerId,
      jobId: this.job.id,
      task: this.job.identifier,
    });
  }

  addJob<P>(task: TaskDefinition<P>, payload: P, options?: JobOptions): Promise<Job> {
    return this.#shared.adder.addJob(task, payload, options);
  }

  addRawJob(identifier: string, payload?: unknown, options?: JobOptions): Promise<Job> {
    return this.#shared.adder.addRawJob(identifier, payload, options);
  }

  addJobs<P>(
    task: TaskDefinition<P>,
    jobs: ReadonlyArray<{ payload: P; options?: JobOptions }>,
  ): Promise<Job[]> {
    return this.#shared.adder.addJobs(task, jobs);
  }

  addRawJobs(jobs: ReadonlyArray<RawJobSpec>): Promise<Job[]> {
    return this.#shared.adder.addRawJobs(jobs);
  }

  addJobsFast<P>(
    task: TaskDefinition<P>,
    jobs: ReadonlyArray<{ payload: P; options?: JobOptions }>,
  ): Promise<number> {
    return this.#shared.adder.addJobsFast(task, jobs);
  }

  addRawJobsFast(jobs: ReadonlyArray<RawJobSpec>): Promise<number> {
    return this.#shared.adder.addRawJobsFast(jobs);
  }

  addBatchJob<I>(
    task: BatchTaskDefinition<I>,
    items: readonly I[],
    options?: JobOptions,
  ): Promise<Job> {
    return this.#shared.adder.addBatchJob(task, items, options);
  }

  query<R = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    return this.#shared.db.query<R>(text, params);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#shared.db.transaction(fn);
  }

  ext<T>(key: ExtensionKey<T>): T {
    return this.#shared.extensions.get(key);
  }
}
