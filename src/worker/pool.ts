/**
 * The job pool: `concurrency` job slots fed by the local queue
 * (`local_queue.ts`), which decides when to fetch and how many jobs.
 *
 * A slot takes a job, runs it, and moves on as soon as the task settles: a
 * completion is handed to the completer and written in the background (in
 * batches); the job stays counted as held until it is written. Failures are
 * awaited (their row is logged). A finished job of a named queue nudges a
 * fetch once its outcome is written, since only then is the queue unlocked.
 *
 * Modes: "idle" (not running) → "continuous" (`run`) or "once" (`runOnce`:
 * ends when a fetch finds nothing and no job is in flight) → "stopping" →
 * "idle".
 *
 * Shutdown (`stop`): stop fetching; hand back jobs fetched but not started;
 * wait up to the grace period for running jobs; then abort the rest through
 * their `ctx.signal` and hand them back at once (unlocked, attempt given
 * back, retried after the interrupted-job delay). A task that settles after
 * being handed back has its outcome ignored.
 *
 * Running-job control (timeouts, cancels, lost locks, the fence) lives in
 * `running_jobs.ts`; the pool only arms a job's timeout and routes outcomes.
 *
 * @module
 */
import { z } from "zod";
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import type { Completer } from "./completer.ts";
import type { FetchedJob, Fetcher } from "./fetcher.ts";
import { LocalQueue, type RefetchDelayOptions } from "./local_queue.ts";
import { type ContextShared, JobContext, jobInfo } from "./job_context.ts";
import { runBatchJob } from "./batch_run.ts";
import type { TaskRegistry } from "./registry.ts";
import type { BackoffFunction } from "./types.ts";
import type { WorkerHooks } from "../hooks/worker_hooks.ts";
import { withoutTrace } from "../internal/trace_payload.ts";
import { JobAbortedError } from "./job_abort.ts";
import type { FailedJobRow } from "../sql/jobs_fail.ts";
import {
  ABANDONED,
  INTERRUPTED,
  RUNNING,
  type RunningJob,
  runningJob,
  RunningJobs,
  SETTLING,
  WRITING,
} from "./running_jobs.ts";

/** Hands jobs back to the database (see `src/sql/jobs_return.ts`). */
export type ReturnJobs = (
  ids: string[],
  options: { retryDelayMs?: number; message?: string },
) => Promise<number>;

/** What a {@linkcode JobPool} needs. */
export interface PoolConfig {
  concurrency: number;
  pollInterval: number;
  fetcher: Fetcher;
  completer: Completer;
  registry: TaskRegistry;
  context: ContextShared;
  logger: Logger;
  clock: Clock;
  backoff: BackoffFunction | undefined;
  returnJobs: ReturnJobs;
  /** Lifecycle hooks; undefined when no hook is registered (see `src/hooks/worker_hooks.ts`). */
  hooks?: WorkerHooks;
  /** Worker-wide job timeout in ms (`null`/undefined: none); a task's own `timeout` wins. */
  jobTimeout?: number | null;
  /** Milliseconds an aborted task gets to settle before it is abandoned. @default {ABORT_GRACE_MS} */
  abortGrace?: number;
  /** Permanently fail a cancelled job this worker holds (see `src/sql/jobs_cancel.ts`). */
  cancelRunning?: (id: string, message: string) => Promise<FailedJobRow | undefined>;
  /** Cancel a job no longer held (its failure was just written), like `utils.cancelJobs`. */
  cancelWaiting?: (id: string, reason: string | undefined) => Promise<unknown>;
  /** Local queue (`size: 0` turns it off); see `local_queue.ts`. */
  localQueue: {
    size: number;
    /** The default queue grows up to this while slots run dry (see `local_queue.ts`). */
    maxSize?: number;
    ttl: number;
    refetchDelay: Required<RefetchDelayOptions> | undefined;
  };
}

/** How {@linkcode JobPool.stop} treats running jobs. */
export interface PoolStopOptions {
  /** Milliseconds running jobs get to finish. */
  gracePeriod: number;
  /** Milliseconds before an interrupted job may run again. */
  interruptedJobRetryDelay: number;
  /** Aborting this ends the grace period early (a second signal). */
  force?: AbortSignal;
}

type Mode = "idle" | "continuous" | "once" | "stopping";

/** Message stored in `last_error` of a job handed back by shutdown. */
export const INTERRUPTED_MESSAGE = "Job interrupted: the worker shut down before it finished";

/** Runs fetched jobs on `concurrency` slots. */
export class JobPool {
  #config: PoolConfig;
  #mode: Mode = "idle";
  #queue: LocalQueue;
  #generation = 0;
  #jobs: RunningJobs;
  #once: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  #onceError: unknown;
  #interrupting: Promise<void> = Promise.resolve();

  constructor(config: PoolConfig) {
    this.#config = config;
    const { fetcher, concurrency, pollInterval, clock, logger, localQueue } = config;
    this.#queue = new LocalQueue({
      fetch: config.hooks?.wrapFetch((n) => fetcher.fetch(n)) ?? ((count) => fetcher.fetch(count)),
      handBack: (jobs) => this.#handBack(jobs.map((j) => j.id), {}),
      concurrency,
      pollInterval,
      size: localQueue.size,
      maxSize: localQueue.maxSize,
      ttl: localQueue.ttl,
      refetchDelay: localQueue.refetchDelay,
      events: config.hooks?.localQueue,
      clock,
      logger,
      onOnceEnd: (error) => {
        this.#onceError = error;
        this.#finishOnce();
      },
    });
    this.#jobs = new RunningJobs({
      clock,
      logger,
      abortGrace: config.abortGrace,
      queue: this.#queue,
      hooks: config.hooks,
      fail: (job, message, cause) => this.#fail(job, message, undefined, cause),
      handBack: (ids) => this.#handBack(ids, {}),
      cancelRunning: config.cancelRunning,
      cancelWaiting: config.cancelWaiting,
      replaceSlot: () => {
        if (this.#mode === "continuous" || this.#mode === "once") void this.#slot(this.#generation);
      },
    });
  }

  /** Jobs this pool holds right now (queued locally, running, or being written). */
  get busy(): number {
    return this.#queue.held;
  }

  /** The pool's local queue (for tests and diagnostics). */
  get localQueue(): LocalQueue {
    return this.#queue;
  }

  /** Start processing until `stop()`. */
  start(): void {
    this.#begin("continuous");
  }

  /** Run every job runnable now; resolves when a fetch finds nothing and no job is in flight. */
  runOnce(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => (this.#once = { resolve, reject }));
    this.#begin("once");
    return done;
  }

  /** Ask for a fetch soon (a notification of `count` new jobs, a reconnect). */
  nudge(count = 1): void {
    if (this.#mode !== "continuous" && this.#mode !== "once") return;
    this.#queue.nudge(count);
  }

  /**
   * Abort job `id` with `reason` when it runs here ("running"), or take it out
   * of the local queue and record the outcome without running it ("queued").
   * Undefined when this pool does not hold it, or it has already settled.
   */
  abortJob(id: string, reason: JobAbortedError): "running" | "queued" | undefined {
    return this.#jobs.abortJob(id, reason);
  }

  /** True while fenced: no job starts. */
  get fenced(): boolean {
    return this.#jobs.fenced;
  }

  /**
   * The worker can no longer prove it holds its jobs: abort every running job
   * and every queued one (lock lost), and start none until `unfence()`.
   */
  fence(): void {
    this.#jobs.fence();
  }

  /** The heartbeat was written again: jobs may start. */
  unfence(): void {
    if (this.#jobs.unfence()) this.nudge();
  }

  /** Graceful shutdown; see the module doc. Resolves when no job is held any more. */
  async stop(options: PoolStopOptions): Promise<void> {
    if (this.#mode === "idle") return;
    const { logger, clock } = this.#config;
    this.#mode = "stopping";
    // Stop fetching; hand back queued jobs and those of fetches in flight.
    await this.#queue.stop();
    if (this.busy > 0 && options.gracePeriod > 0 && !options.force?.aborted) {
      logger.info(
        `Waiting up to ${options.gracePeriod} ms for ${this.busy} running job(s) to finish`,
      );
      const grace = new AbortController();
      const onForce = () => grace.abort();
      options.force?.addEventListener("abort", onForce, { once: true });
      await Promise.race([this.#queue.idle(), clock.sleep(options.gracePeriod, grace.signal)]);
      grace.abort();
      options.force?.removeEventListener("abort", onForce);
    }
    if (this.busy > 0) this.#interrupt(options.interruptedJobRetryDelay);
    // Anything left is writing its outcome; wait for it.
    await this.#queue.idle();
    await this.#config.completer.flush();
    await this.#interrupting;
    this.#queue.reset();
    this.#mode = "idle";
    this.#finishOnce();
  }

  #interrupt(retryDelayMs: number): void {
    const ids: string[] = [];
    const running = this.#jobs.active;
    for (const active of running.values()) {
      if (active.state !== RUNNING) continue;
      active.cancelTimer?.();
      active.abortSignal(JobAbortedError.shutdown(active.job.id));
      active.state = INTERRUPTED;
      running.delete(active.job.id);
      ids.push(active.job.id);
    }
    if (ids.length === 0) return;
    this.#config.logger.warn(
      `Grace period over: aborting ${ids.length} running job(s) and handing them back ` +
        `to run again in ${retryDelayMs} ms`,
      { jobIds: ids },
    );
    this.#interrupting = this.#handBack(ids, { retryDelayMs, message: INTERRUPTED_MESSAGE });
    this.#queue.release(ids.length);
  }

  #begin(mode: "continuous" | "once"): void {
    this.#mode = mode;
    this.#jobs.unfence();
    this.#onceError = undefined;
    const generation = ++this.#generation;
    // Start the queue first: a slot's take() on an idle queue returns undefined at once.
    this.#queue.start(mode);
    for (let i = 0; i < this.#config.concurrency; i++) void this.#slot(generation);
  }

  #finishOnce(): void {
    const once = this.#once;
    if (!once) return;
    this.#once = undefined;
    if (this.#mode === "once") {
      this.#mode = "idle";
      this.#queue.reset();
    }
    if (this.#onceError !== undefined) once.reject(this.#onceError);
    else once.resolve();
  }

  async #slot(generation: number): Promise<void> {
    const queue = this.#queue;
    while (generation === this.#generation) {
      // A queued job is taken without a promise (one less allocation and tick per job).
      const job = queue.takeNow() ?? await queue.take();
      if (job === undefined) return;
      queue.started();
      const active = runningJob(job);
      this.#jobs.active.set(job.id, active);
      try {
        await this.#execute(active);
      } catch (error) {
        // Only a bug or a throwing schema gets here; the job stays locked until the stale-lock reset.
        this.#config.logger.error(`Job ${job.id} could not be run or recorded`, {
          error: String(error),
        });
      }
      // ABANDONED: a replacement slot runs in this one's place; the outcome was recorded.
      if (active.state === ABANDONED) return;
      if (this.#jobs.active.get(job.id) === active) this.#jobs.active.delete(job.id);
      // INTERRUPTED: already handed back and released; WRITING: released once written.
      if (active.state !== INTERRUPTED && active.state !== WRITING) {
        queue.release(1, job.job_queue_id !== null);
      }
      queue.finished();
    }
  }

  /** Completions are written in the background: the slot moves on at once. */
  #completeInBackground(active: RunningJob): void {
    active.state = WRITING;
    // One shared callback, the job as its tag: no closure or promise per job.
    this.#config.completer.completeThen(active.job.id, this.#onCompleted, active.job);
  }

  /** A completion write settled (written, or given up and logged by the completer). */
  #onCompleted = (job: FetchedJob): void => {
    this.#config.hooks?.completed(job);
    this.#queue.release(1, job.job_queue_id !== null);
  };

  async #handBack(ids: string[], options: { retryDelayMs?: number; message?: string }) {
    try {
      await this.#config.returnJobs(ids, options);
    } catch (error) {
      this.#config.hooks?.error("handBack", error);
      this.#config.logger.error(
        `Could not hand back ${ids.length} job(s); they stay locked until the stale-lock reset`,
        { jobIds: ids, error: String(error) },
      );
    }
  }

  async #execute(active: RunningJob): Promise<void> {
    const { registry, context } = this.#config;
    const job = active.job;
    let failure: string | undefined;
    let retryPayload: unknown[] | undefined; // batch jobs: only the failed items
    let cause: unknown;
    const task = registry.get(job.identifier);
    const hooks = this.#config.hooks;
    if (this.#jobs.fenced) {
      active.reason = this.#jobs.fencedReason(job.id);
      return await this.#jobs.settle(active, false);
    }
    const verdict = hooks?.gated && task ? await hooks.beforeRun(job) : undefined;
    if (!task) {
      failure = `Task "${job.identifier}" is not registered with this worker`;
    } else if (verdict) {
      if ("fail" in verdict) ({ fail: failure, cause } = verdict); // else skipped: completes
    } else if (active.reason === undefined) { // not aborted while an interceptor ran
      hooks?.started(job);
      const timeout = task.timeout === undefined ? this.#config.jobTimeout : task.timeout;
      if (timeout) {
        active.cancelTimer = this.#config.clock.setTimeout(
          () => this.#jobs.abort(active, JobAbortedError.timeout(job.id, timeout)),
          timeout,
        );
      }
      const run = async (): Promise<void> => {
        if (task.kind === "batch") {
          ({ failure, retryPayload } = await runBatchJob(
            task,
            job.payload,
            () => new JobContext(context, jobInfo(job), active),
          ));
        } else {
          const parsed = task.payload.safeParse(withoutTrace(job.payload));
          if (!parsed.success) {
            failure = `Invalid payload for task "${job.identifier}": ${
              z.prettifyError(parsed.error)
            }`;
          } else {
            await task.run(parsed.data, new JobContext(context, jobInfo(job), active));
          }
        }
      };
      try {
        await (hooks?.aroundRun ? hooks.aroundRun(job, run) : run());
      } catch (error) {
        failure = errorMessage(error);
        cause = error;
      }
    }
    if (active.state === INTERRUPTED || active.state === ABANDONED) return;
    active.cancelTimer?.();
    if (active.reason) return await this.#jobs.settle(active, false);
    active.state = SETTLING;
    if (failure === undefined) return this.#completeInBackground(active);
    else {
      await this.#fail(job, failure, retryPayload, cause);
      await this.#jobs.applyLateCancel(active);
    }
  }

  async #fail(job: FetchedJob, message: string, payload?: unknown[], cause?: unknown) {
    const { completer, logger } = this.#config;
    const backoff = this.#config.registry.get(job.identifier)?.backoff ?? this.#config.backoff;
    let delaySeconds: number | undefined;
    if (backoff) {
      try {
        const d = backoff(job.attempts);
        if (typeof d === "number" && Number.isFinite(d) && d >= 0) delaySeconds = d;
        else logger.warn(`backoff(${job.attempts}) returned ${d}; using the default curve`);
      } catch (error) {
        logger.warn("backoff threw; using the default curve", { error: String(error) });
      }
    }
    const row = await completer.fail({ id: job.id, message, delaySeconds, payload });
    this.#config.hooks?.failed(job, message, cause, row, payload);
    const meta = { jobId: job.id, task: job.identifier, attempts: job.attempts, error: message };
    if (row && row.attempts >= row.max_attempts) {
      logger.error(
        `Job ${job.id} (${job.identifier}) failed permanently after ${row.attempts} attempts`,
        meta,
      );
    } else if (row) {
      logger.warn(
        `Job ${job.id} (${job.identifier}) failed; retry at ${row.run_at.toISOString()}`,
        meta,
      );
    }
  }
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
