/**
 * The jobs a pool is running, and how they are stopped: each has its own
 * `AbortController`. A timeout, a cancel or a lost lock aborts it with a
 * {@linkcode JobAbortedError}; its outcome then follows the reason, whatever
 * the task returns or throws:
 *
 * - timeout: an ordinary failure ("timed out after 30 s"), retried;
 * - cancelled: permanently failed ("cancelled: <reason>"), never retried;
 * - lock lost: handed back, attempt not counted (a no-op when another worker
 *   holds it now).
 *
 * A task that has not settled `abortGrace` ms after its abort is abandoned: a
 * warning names the job, the outcome is recorded by the reason, and the pool
 * starts a new slot in its place (the old one exits when its task settles).
 * While fenced (the heartbeat could not be written for too long, see
 * `src/recovery/fence.ts`) every running and queued job is aborted with lock
 * lost and the pool starts none. A cancel that arrives while a job's failure
 * is being written is applied once that write landed (the job would be
 * retried otherwise).
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import type { FailedJobRow } from "../sql/jobs_fail.ts";
import type { WorkerHooks } from "../hooks/worker_hooks.ts";
import type { FetchedJob } from "./fetcher.ts";
import type { LocalQueue } from "./local_queue.ts";
import { JobAbortedError } from "./job_abort.ts";

/** The task is running. */
export const RUNNING = 0;
/** The task settled; its failure (or aborted outcome) is being written. */
export const SETTLING = 1;
/** Handed back by shutdown. */
export const INTERRUPTED = 2;
/** The task finished and its completion is being written in the background. */
export const WRITING = 3;
/** Aborted and did not settle within the grace: outcome recorded, slot replaced. */
export const ABANDONED = 4;

/** Default milliseconds an aborted task gets to settle before it is abandoned. */
export const ABORT_GRACE_MS = 2_000;

/** Why jobs are aborted while the pool is fenced. */
const FENCED =
  "the heartbeat could not be written for too long; another worker may recover the job";

/**
 * One job a slot runs. Its `AbortController` is created on first use (the
 * task reads `ctx.signal`, or the job is aborted), so a job whose task never
 * looks at its signal costs none.
 */
export class RunningJob {
  readonly job: FetchedJob;
  state: number = RUNNING;
  /** Set once the job was aborted (the outcome then follows it). */
  reason: JobAbortedError | undefined;
  /** Cancels the timeout timer, later the abandon timer. */
  cancelTimer: (() => void) | undefined = undefined;
  /** A cancel that arrived while its failure was being written (applied once written). */
  lateCancel: JobAbortedError | undefined = undefined;
  #controller: AbortController | undefined = undefined;

  constructor(job: FetchedJob, reason?: JobAbortedError) {
    this.job = job;
    this.reason = reason;
  }

  /** The job's own signal (`ctx.signal`). */
  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** Abort the signal with `reason` (listeners run now). */
  abortSignal(reason: JobAbortedError): void {
    (this.#controller ??= new AbortController()).abort(reason);
  }
}

/** A new entry for `job` (aborted already when `reason` is given). */
export function runningJob(job: FetchedJob, reason?: JobAbortedError): RunningJob {
  return new RunningJob(job, reason);
}

/** What {@linkcode RunningJobs} needs from its pool. */
export interface RunningJobsConfig {
  clock: Clock;
  logger: Logger;
  abortGrace?: number;
  queue: Pick<LocalQueue, "remove" | "finished" | "release">;
  hooks?: WorkerHooks;
  /** Record an ordinary failure (with the task's backoff). */
  fail(job: FetchedJob, message: string, cause: unknown): Promise<void>;
  /** Hand jobs back, attempt not counted (never throws). */
  handBack(ids: string[]): Promise<void>;
  /** Permanently fail a cancelled job this worker holds. */
  cancelRunning?: (id: string, message: string) => Promise<FailedJobRow | undefined>;
  /** Cancel a job no longer held (its failure was just written), like `utils.cancelJobs`. */
  cancelWaiting?: (id: string, reason: string | undefined) => Promise<unknown>;
  /** Start a slot in place of an abandoned one. */
  replaceSlot(): void;
}

/** See the module doc. */
export class RunningJobs {
  /** Running jobs by id. */
  readonly active: Map<string, RunningJob> = new Map();
  #config: RunningJobsConfig;
  #fenced = false;

  constructor(config: RunningJobsConfig) {
    this.#config = config;
  }

  /** True while fenced: no job starts. */
  get fenced(): boolean {
    return this.#fenced;
  }

  /** Lift the fence (a new run, or the heartbeat was renewed); true when it was up. */
  unfence(): boolean {
    const was = this.#fenced;
    this.#fenced = false;
    return was;
  }

  /** Abort every running and queued job (lock lost) and start none until `unfence()`. */
  fence(): void {
    this.#fenced = true;
    for (const r of this.active.values()) this.abort(r, JobAbortedError.lockLost(r.job.id, FENCED));
    for (const job of this.#config.queue.remove()) {
      void this.settle(runningJob(job, JobAbortedError.lockLost(job.id, FENCED)), true);
    }
  }

  /** A reason for a job that is about to start while fenced. */
  fencedReason(id: string): JobAbortedError {
    return JobAbortedError.lockLost(id, FENCED);
  }

  /** See `JobPool.abortJob`. */
  abortJob(id: string, reason: JobAbortedError): "running" | "queued" | undefined {
    const r = this.active.get(id);
    if (r) {
      if (this.abort(r, reason)) return "running";
      if (r.state !== SETTLING || reason.kind !== "cancelled") return undefined;
      r.lateCancel ??= reason;
      return "running";
    }
    const [job] = this.#config.queue.remove(new Set([id]));
    if (!job) return undefined;
    void this.settle(runningJob(job, reason), true);
    return "queued";
  }

  /** Abort a running job once; a task that then does not settle within the grace is abandoned. */
  abort(r: RunningJob, reason: JobAbortedError): boolean {
    if (r.state !== RUNNING || r.reason !== undefined) return false;
    r.reason = reason;
    r.cancelTimer?.();
    const grace = this.#config.abortGrace ?? ABORT_GRACE_MS;
    r.cancelTimer = this.#config.clock.setTimeout(() => this.#abandon(r, grace), grace);
    r.abortSignal(reason);
    return true;
  }

  /** Record the outcome of an aborted job by its reason; `release`: also release it from the queue. */
  async settle(r: RunningJob, release: boolean): Promise<void> {
    if (r.state === RUNNING) r.state = SETTLING;
    const { job, reason } = r;
    try {
      if (reason?.kind === "timeout") {
        await this.#config.fail(job, reason.message, reason);
        await this.applyLateCancel(r);
      } else if (reason?.kind === "cancelled") {
        await this.#finishCancelled(job, reason);
      } else {
        await this.#config.handBack([job.id]); // lock lost: nothing charged, a no-op if not ours
      }
    } catch (error) {
      this.#config.logger.error(`Job ${job.id} could not be recorded after its abort`, {
        error: String(error),
      });
    } finally {
      if (release) this.#config.queue.release(1, job.job_queue_id !== null);
    }
  }

  /** After a failure was written: apply a cancel that arrived meanwhile. */
  async applyLateCancel(r: RunningJob): Promise<void> {
    if (!r.lateCancel) return;
    try {
      await this.#config.cancelWaiting?.(r.job.id, r.lateCancel.cancelReason);
    } catch (error) {
      this.#config.logger.error(`Job ${r.job.id} failed but could not be cancelled`, {
        error: String(error),
      });
    }
  }

  #abandon(r: RunningJob, grace: number): void {
    if (r.state !== RUNNING) return;
    r.state = ABANDONED;
    const { job, reason } = r;
    this.#config.logger.warn(
      `Job ${job.id} (${job.identifier}) did not stop within ${grace} ms of its abort ` +
        `(${reason?.kind}); its outcome will be discarded and its slot is freed`,
      { jobId: job.id, task: job.identifier, reason: reason?.message },
    );
    if (this.active.get(job.id) === r) this.active.delete(job.id);
    this.#config.queue.finished();
    // The old slot is still awaiting the task; a new one keeps `concurrency` slots working.
    this.#config.replaceSlot();
    void this.settle(r, true);
  }

  async #finishCancelled(job: FetchedJob, reason: JobAbortedError): Promise<void> {
    const row = await this.#config.cancelRunning?.(job.id, reason.message);
    this.#config.hooks?.failed(job, reason.message, reason, row, undefined);
    if (row) {
      this.#config.logger.info(`Job ${job.id} (${job.identifier}) cancelled`, {
        jobId: job.id,
        task: job.identifier,
        error: reason.message,
      });
    }
  }
}
