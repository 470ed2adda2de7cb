/**
 * The job pool: one fetch loop feeding `concurrency` job slots through a
 * channel.
 *
 * Fetching: `nudge()` asks for a fetch. One fetch runs at a time; nudges that
 * arrive while it is in flight are coalesced into one more fetch right after
 * (so a notification is never left waiting for the poll interval). A fetch
 * asks for as many jobs as there are free slots; when it gets them all it
 * fetches again at once, when it gets fewer the queue is drained for now and
 * the poll timer (continuous mode) is armed. A slot that finishes a job
 * nudges, so a busy pool keeps itself fed.
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
 * @module
 */
import { z } from "zod";
import { Channel } from "../internal/channel.ts";
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import type { Completer } from "./completer.ts";
import type { FetchedJob, Fetcher } from "./fetcher.ts";
import { type ContextShared, JobContext, jobInfo } from "./job_context.ts";
import type { TaskRegistry } from "./registry.ts";
import type { BackoffFunction } from "./types.ts";

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

const RUNNING = 0;
const SETTLING = 1;
const INTERRUPTED = 2;

interface ActiveJob {
  job: FetchedJob;
  state: number;
}

type Mode = "idle" | "continuous" | "once" | "stopping";

/** Message stored in `last_error` of a job handed back by shutdown. */
export const INTERRUPTED_MESSAGE = "Job interrupted: the worker shut down before it finished";

/** Runs fetched jobs on `concurrency` slots. */
export class JobPool {
  #config: PoolConfig;
  #mode: Mode = "idle";
  #channel = new Channel<FetchedJob>();
  #abort = new AbortController();
  #active = new Set<ActiveJob>();
  /** Jobs locked by this pool and not yet finished, handed back or interrupted. */
  #busy = 0;
  #fetching = false;
  #wanted = false;
  #pumpDone: Promise<void> = Promise.resolve();
  #cancelPoll: (() => void) | undefined;
  #idleWaiters: Array<() => void> = [];
  #once: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  #onceError: unknown;
  #interrupting: Promise<void> = Promise.resolve();

  constructor(config: PoolConfig) {
    this.#config = config;
  }

  /** Jobs this pool holds right now. */
  get busy(): number {
    return this.#busy;
  }

  /** Start processing until `stop()`. */
  start(): void {
    this.#begin("continuous");
    this.nudge();
  }

  /** Run every job runnable now; resolves when a fetch finds nothing and no job is in flight. */
  runOnce(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => (this.#once = { resolve, reject }));
    this.#begin("once");
    this.nudge();
    return done;
  }

  /** Ask for a fetch soon (a notification, a poll, a reconnect, a free slot). */
  nudge(): void {
    if (this.#mode !== "continuous" && this.#mode !== "once") return;
    if (this.#onceError !== undefined) return; // runOnce failed: finish what runs, fetch no more
    this.#wanted = true;
    if (this.#fetching) return;
    this.#fetching = true;
    this.#pumpDone = this.#pump();
  }

  /** Graceful shutdown; see the module doc. Resolves when no job is held any more. */
  async stop(options: PoolStopOptions): Promise<void> {
    if (this.#mode === "idle") return;
    const { logger, clock } = this.#config;
    this.#mode = "stopping";
    this.#cancelPoll?.();
    this.#cancelPoll = undefined;
    const queued = this.#channel.drain();
    this.#channel.close();
    if (queued.length > 0) {
      await this.#handBack(queued.map((j) => j.id), {});
      this.#release(queued.length);
    }
    await this.#pumpDone;
    if (this.#busy > 0 && options.gracePeriod > 0 && !options.force?.aborted) {
      logger.info(
        `Waiting up to ${options.gracePeriod} ms for ${this.#busy} running job(s) to finish`,
      );
      const grace = new AbortController();
      const onForce = () => grace.abort();
      options.force?.addEventListener("abort", onForce, { once: true });
      await Promise.race([this.#idle(), clock.sleep(options.gracePeriod, grace.signal)]);
      grace.abort();
      options.force?.removeEventListener("abort", onForce);
    }
    if (this.#busy > 0) this.#interrupt(options.interruptedJobRetryDelay);
    // Anything left is writing its outcome; wait for it.
    await this.#idle();
    await this.#config.completer.flush();
    await this.#interrupting;
    this.#mode = "idle";
    this.#finishOnce();
  }

  #interrupt(retryDelayMs: number): void {
    this.#abort.abort(new Error("The worker is shutting down"));
    const ids: string[] = [];
    for (const active of this.#active) {
      if (active.state !== RUNNING) continue;
      active.state = INTERRUPTED;
      this.#active.delete(active);
      ids.push(active.job.id);
    }
    if (ids.length === 0) return;
    this.#config.logger.warn(
      `Grace period over: aborting ${ids.length} running job(s) and handing them back ` +
        `to run again in ${retryDelayMs} ms`,
      { jobIds: ids },
    );
    this.#interrupting = this.#handBack(ids, { retryDelayMs, message: INTERRUPTED_MESSAGE });
    this.#release(ids.length);
  }

  #begin(mode: "continuous" | "once"): void {
    this.#mode = mode;
    this.#channel = new Channel<FetchedJob>();
    this.#abort = new AbortController();
    this.#onceError = undefined;
    for (let i = 0; i < this.#config.concurrency; i++) void this.#slot(this.#channel);
  }

  #finishOnce(): void {
    const once = this.#once;
    if (!once) return;
    this.#once = undefined;
    if (this.#mode === "once") {
      this.#mode = "idle";
      this.#channel.close();
    }
    if (this.#onceError !== undefined) once.reject(this.#onceError);
    else once.resolve();
  }

  async #pump(): Promise<void> {
    const { fetcher, logger, concurrency } = this.#config;
    try {
      while (this.#wanted) {
        this.#wanted = false;
        const free = concurrency - this.#busy;
        if (free <= 0 || (this.#mode !== "continuous" && this.#mode !== "once")) continue;
        let jobs: FetchedJob[];
        try {
          jobs = await fetcher.fetch(free);
        } catch (error) {
          logger.error("Fetching jobs failed", { error: String(error) });
          if (this.#mode === "once") {
            this.#onceError = error;
            if (this.#busy === 0) this.#finishOnce();
          } else this.#armPoll();
          continue;
        }
        if (this.#mode !== "continuous" && this.#mode !== "once") {
          // Stopping while the fetch was in flight: hand the jobs straight back.
          if (jobs.length > 0) await this.#handBack(jobs.map((j) => j.id), {});
          break;
        }
        this.#busy += jobs.length;
        for (const job of jobs) this.#channel.send(job);
        if (jobs.length >= free) this.#wanted = true;
        else if (this.#mode === "continuous") this.#armPoll();
        else if (jobs.length === 0 && this.#busy === 0) this.#finishOnce();
      }
    } finally {
      this.#fetching = false;
    }
  }

  #armPoll(): void {
    if (this.#cancelPoll || this.#mode !== "continuous") return;
    this.#cancelPoll = this.#config.clock.setTimeout(() => {
      this.#cancelPoll = undefined;
      this.nudge();
    }, this.#config.pollInterval);
  }

  async #slot(channel: Channel<FetchedJob>): Promise<void> {
    for (;;) {
      const job = await channel.receive();
      if (job === undefined) return;
      const active: ActiveJob = { job, state: RUNNING };
      this.#active.add(active);
      try {
        await this.#execute(active);
      } catch (error) {
        // Only a bug or a throwing schema gets here; the job stays locked until the stale-lock reset.
        this.#config.logger.error(`Job ${job.id} could not be run or recorded`, {
          error: String(error),
        });
      }
      if (active.state === INTERRUPTED) continue; // already handed back and released
      this.#active.delete(active);
      this.#release(1);
      if (this.#mode === "once" && this.#onceError !== undefined && this.#busy === 0) {
        this.#finishOnce();
      } else this.nudge();
    }
  }

  #release(n: number): void {
    this.#busy -= n;
    if (this.#busy === 0 && this.#idleWaiters.length > 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  #idle(): Promise<void> {
    if (this.#busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #handBack(ids: string[], options: { retryDelayMs?: number; message?: string }) {
    try {
      await this.#config.returnJobs(ids, options);
    } catch (error) {
      this.#config.logger.error(
        `Could not hand back ${ids.length} job(s); they stay locked until the stale-lock reset`,
        { jobIds: ids, error: String(error) },
      );
    }
  }

  async #execute(active: ActiveJob): Promise<void> {
    const { registry, context, completer } = this.#config;
    const job = active.job;
    let failure: string | undefined;
    const task = registry.get(job.identifier);
    if (!task) {
      failure = `Task "${job.identifier}" is not registered with this worker`;
    } else {
      try {
        const parsed = task.payload.safeParse(job.payload);
        if (!parsed.success) {
          failure = `Invalid payload for task "${job.identifier}": ${
            z.prettifyError(parsed.error)
          }`;
        } else {
          await task.run(parsed.data, new JobContext(context, jobInfo(job), this.#abort.signal));
        }
      } catch (error) {
        failure = errorMessage(error);
      }
    }
    if (active.state === INTERRUPTED) return;
    active.state = SETTLING;
    if (failure === undefined) await completer.complete(job.id);
    else await this.#fail(job, failure);
  }

  async #fail(job: FetchedJob, message: string): Promise<void> {
    const { backoff, completer, logger } = this.#config;
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
    const row = await completer.fail({ id: job.id, message, delaySeconds });
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
