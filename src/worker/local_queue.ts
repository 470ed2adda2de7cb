/**
 * The local queue: decides when to fetch, holds fetched jobs until a job slot
 * takes them, and hands back what it will not run.
 *
 * Fetching: a fetch asks for enough jobs to fill the idle slots plus `size`
 * waiting jobs, in one round trip. With a local queue (`size > 0`) a second
 * fetch may be in flight while the first is being worked through: a new fetch
 * starts as soon as at least half a queue's worth of room is free, so the
 * slots rarely wait on the database. Without one (`size = 0`) one fetch runs
 * at a time and asks for the idle slots only.
 *
 * When a fetch returns fewer jobs than it asked for, the table is drained for
 * now: no more fetches until a notification, a poll (`pollInterval`), a
 * finished job from a named queue (its queue is unlocked once the outcome is
 * written) or a nudge. A nudge that arrived while a fetch was in flight makes
 * the next fetch start at once.
 *
 * Refetch delay (optional): when a fetch returns `threshold` jobs or fewer, no
 * fetch starts for `durationMs` (randomised ×0.5–1.5). Notifications during
 * the delay are counted; reaching a random abort threshold (up to
 * `maxAbortThreshold`) ends it early. Unlike graphile-worker 0.18, a
 * notification that lands inside the delay is never left for the poll
 * interval: the fetch runs as soon as the delay ends.
 *
 * Growing (the default queue only, `maxSize` > `size`): when a fetch comes
 * back full while slots were waiting for it, the queue ran dry, so the batch
 * was too small for how fast jobs finish: the size doubles, up to `maxSize`.
 * A fetch that comes back short (the backlog is drained) sets it back to
 * `size`. Slow jobs never leave slots waiting, so their queue stays small and
 * holds few locks; a backlog of fast jobs is fetched in big batches.
 *
 * TTL: jobs that wait in the local queue longer than `ttl` (all slots busy)
 * are handed back to the database without using an attempt; the queue then
 * fetches again only once a slot is free. Shutdown hands back every job that
 * was fetched and not started, including those of fetches still in flight.
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import type { FetchedJob } from "./fetcher.ts";
import type { LocalQueueEvents } from "../hooks/worker_hooks.ts";

/** Refetch delay settings (see the module doc). */
export interface RefetchDelayOptions {
  /** Milliseconds without fetches after a small fetch (randomised ×0.5–1.5). */
  durationMs: number;
  /** A fetch returning this many jobs or fewer starts the delay. @default {0} */
  threshold?: number;
  /** Most notifications that end the delay early (a random share of it is used). @default {5 × size} */
  maxAbortThreshold?: number;
}

/** Local queue settings: `createWorker({ localQueue })`. */
export interface LocalQueueOptions {
  /** Most jobs fetched ahead and held until a slot is free; 0 turns the local queue off. */
  size: number;
  /** Milliseconds a fetched job may wait before it is handed back. @default {60000} */
  ttl?: number;
  /** Pause fetching after a fetch that found (almost) nothing. Off by default. */
  refetchDelay?: RefetchDelayOptions;
}

/** What a {@linkcode LocalQueue} needs. */
export interface LocalQueueConfig {
  fetch(count: number): Promise<FetchedJob[]>;
  /** Hand jobs back without using an attempt (shutdown, TTL). Must not throw. */
  handBack(jobs: FetchedJob[]): Promise<void>;
  concurrency: number;
  pollInterval: number;
  size: number;
  /** Largest size the queue may grow to (see the module doc); `size` when absent. */
  maxSize?: number;
  ttl: number;
  refetchDelay: Required<RefetchDelayOptions> | undefined;
  clock: Clock;
  logger: Logger;
  /** `runOnce` is over: nothing runnable was found, or a fetch failed (`error`) and nothing is held. */
  onOnceEnd(error: unknown): void;
  /** Lifecycle hooks (refetch delay, jobs handed back); see `src/hooks/worker_hooks.ts`. */
  events?: LocalQueueEvents;
  /** Random number in [0, 1) (tests pin it). */
  random?: () => number;
}

type Mode = "idle" | "continuous" | "once" | "stopping";
type Waiter = (job: FetchedJob | undefined) => void;

/** Feeds job slots; see the module doc. */
export class LocalQueue {
  #c: LocalQueueConfig;
  #random: () => number;
  #mode: Mode = "idle";
  // Queued jobs (fetched, not started) and when they arrived; a deque with a head index.
  #jobs: FetchedJob[] = [];
  #at: number[] = [];
  #head = 0;
  #waiters: Waiter[] = [];
  /** Slots running a job. */
  #running = 0;
  /** Jobs locked by this worker and not yet released (queued, running or being written). */
  #held = 0;
  #inFlight = 0;
  #requested = 0;
  #fetches: Set<Promise<void>> = new Set();
  /** More jobs may be runnable (a fetch came back full, or something nudged since). */
  #maybeMore = true;
  /** Counts nudges, so a fetch can tell whether one arrived while it ran. */
  #epoch = 0;
  #expired = false;
  #onceError: unknown;
  #onceFailed = false;
  #cancelPoll: (() => void) | undefined;
  #cancelTtl: (() => void) | undefined;
  #cancelDelay: (() => void) | undefined;
  #delayCount = 0;
  #delayAbortAt = Infinity;
  #idleWaiters: Array<() => void> = [];
  /** The current size: `size`, grown up to `maxSize` while slots run dry. */
  #size: number;
  #fetchedSinceStart = false;

  constructor(config: LocalQueueConfig) {
    this.#c = config;
    this.#random = config.random ?? Math.random;
    this.#size = config.size;
  }

  /** The current local queue size (grows from `size` towards `maxSize`). */
  get size(): number {
    return this.#size;
  }

  /** Jobs locked by this worker and not yet released. */
  get held(): number {
    return this.#held;
  }

  /** Jobs fetched and waiting for a slot. */
  get queued(): number {
    return this.#jobs.length - this.#head;
  }

  /** True while a refetch delay is running. */
  get delaying(): boolean {
    return this.#cancelDelay !== undefined;
  }

  /** Start fetching, continuously or until nothing runnable is left (`once`). */
  start(mode: "continuous" | "once"): void {
    this.#mode = mode;
    this.#maybeMore = true;
    this.#size = this.#c.size;
    this.#fetchedSinceStart = false;
    this.#expired = false;
    this.#onceFailed = false;
    this.#onceError = undefined;
    this.#maybeFetch();
  }

  /** A queued job right away, or `undefined` when none is queued (then use `take`). */
  takeNow(): FetchedJob | undefined {
    return this.#head < this.#jobs.length ? this.#shift() : undefined;
  }

  /** The next job for a slot; `undefined` once the queue is stopping. */
  take(): Promise<FetchedJob | undefined> {
    if (this.#head < this.#jobs.length) return Promise.resolve(this.#shift());
    if (this.#mode === "stopping" || this.#mode === "idle") return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** A slot started a job it took (call right after `take` resolves with a job). */
  started(): void {
    this.#running++;
  }

  /** A slot finished running a job (its outcome may still be being written). */
  finished(): void {
    this.#running--;
    this.#expired = false;
    this.#maybeFetch();
  }

  /**
   * `n` jobs are fully done (outcome written, handed back or given up).
   * `unlockedQueue`: a named queue was unlocked, so its next job may be runnable.
   */
  release(n: number, unlockedQueue = false): void {
    this.#held -= n;
    if (unlockedQueue || this.#mode === "once") {
      this.#epoch++; // a fetch in flight may have missed these
      this.#maybeMore = true;
    }
    if (this.#held === 0 && this.#idleWaiters.length > 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
    if (this.#mode === "once" && this.#onceFailed && this.#held === 0) this.#endOnce();
    else this.#maybeFetch();
  }

  /** Resolves when no job is held. */
  idle(): Promise<void> {
    if (this.#held === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** New jobs may be runnable (`count` of them, from a notification), or a poll is due. */
  nudge(count = 1): void {
    this.#epoch++;
    this.#maybeMore = true;
    if (this.#cancelDelay) {
      this.#delayCount += count;
      if (this.#delayCount >= this.#delayAbortAt) {
        this.#c.events?.refetchDelayAbort(this.#delayCount);
        this.#endDelay();
      }
      return; // otherwise the fetch runs when the delay ends
    }
    this.#maybeFetch();
  }

  /**
   * Stop fetching and hand back every job fetched but not started (including
   * those of fetches still in flight). Waiting slots get `undefined`.
   */
  async stop(): Promise<void> {
    if (this.#mode === "idle") return;
    this.#mode = "stopping";
    this.#cancelTimers();
    for (const w of this.#waiters.splice(0)) w(undefined);
    await this.#handBackQueued();
    while (this.#fetches.size > 0) await Promise.all(this.#fetches);
  }

  /**
   * Take queued jobs out (all, or those in `ids`) without handing them back;
   * the caller records their outcome and calls `release` for each.
   */
  remove(ids?: ReadonlySet<string>): FetchedJob[] {
    const out: FetchedJob[] = [];
    const jobs: FetchedJob[] = [];
    const at: number[] = [];
    for (let i = this.#head; i < this.#jobs.length; i++) {
      const job = this.#jobs[i];
      if (ids === undefined || ids.has(job.id)) out.push(job);
      else {
        jobs.push(job);
        at.push(this.#at[i]);
      }
    }
    if (out.length > 0) {
      this.#jobs = jobs;
      this.#at = at;
      this.#head = 0;
    }
    return out;
  }

  /** Back to idle after `stop()` or the end of a `runOnce`. */
  reset(): void {
    this.#mode = "idle";
    this.#cancelTimers();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  #cancelTimers(): void {
    this.#cancelPoll?.();
    this.#cancelPoll = undefined;
    this.#cancelTtl?.();
    this.#cancelTtl = undefined;
    this.#cancelDelay?.();
    this.#cancelDelay = undefined;
  }

  #shift(): FetchedJob {
    const job = this.#jobs[this.#head];
    this.#head++;
    if (this.#head === this.#jobs.length) {
      this.#jobs = [];
      this.#at = [];
      this.#head = 0;
    }
    return job;
  }

  #maybeFetch(): void {
    const mode = this.#mode;
    if (mode !== "continuous" && mode !== "once") return;
    if (!this.#maybeMore || this.#expired || this.#onceFailed || this.#cancelDelay) return;
    const { concurrency } = this.#c;
    const size = this.#size;
    const maxInFlight = size > 0 ? 2 : 1;
    const maxHeld = 2 * (concurrency + size);
    const minBatch = size > 0 ? Math.ceil(size / 2) : 1;
    while (this.#inFlight < maxInFlight) {
      const pending = this.queued + this.#requested;
      const idleSlots = concurrency - this.#running;
      const want = Math.min(idleSlots + size - pending, maxHeld - this.#held - this.#requested);
      if (want <= 0) return;
      // Refill when the queue runs low, in batches worth a round trip; at once when a slot would wait.
      if (want < minBatch && pending >= idleSlots) return;
      this.#startFetch(want);
    }
  }

  #startFetch(count: number): void {
    this.#cancelPoll?.();
    this.#cancelPoll = undefined;
    this.#inFlight++;
    this.#requested += count;
    this.#delayCount = 0;
    const p = this.#fetch(count, this.#epoch);
    this.#fetches.add(p);
    void p.finally(() => this.#fetches.delete(p));
  }

  async #fetch(count: number, epoch: number): Promise<void> {
    let jobs: FetchedJob[];
    try {
      jobs = await this.#c.fetch(count);
    } catch (error) {
      this.#inFlight--;
      this.#requested -= count;
      this.#c.logger.error("Fetching jobs failed", { error: String(error) });
      if (this.#mode === "once") {
        this.#onceFailed = true;
        this.#onceError = error;
        if (this.#held === 0 && this.#inFlight === 0) this.#endOnce();
      } else if (this.#mode === "continuous") this.#armPoll();
      return;
    }
    this.#inFlight--;
    this.#requested -= count;
    const n = jobs.length;
    this.#held += n;
    if (this.#mode !== "continuous" && this.#mode !== "once") {
      // Stopping while the fetch was in flight: hand the jobs straight back.
      if (n > 0) await this.#giveBack(jobs, "shutdown");
      return;
    }
    // Slots waited for this fetch (not the first one after start, when all of them wait).
    const ranDry = this.#fetchedSinceStart && this.#waiters.length > 0;
    this.#fetchedSinceStart = true;
    if (n > 0) this.#receive(jobs);
    if (n >= count) {
      this.#maybeMore = true;
      const max = this.#c.maxSize ?? this.#c.size;
      if (ranDry && this.#size < max) this.#size = Math.min(max, 2 * this.#size);
    } else {
      this.#size = this.#c.size;
      if (this.#epoch === epoch) this.#maybeMore = false;
      const delay = this.#c.refetchDelay;
      if (delay && n <= delay.threshold && !this.#cancelDelay) this.#startDelay(delay);
      if (this.#mode === "continuous") this.#armPoll();
      else if (n === 0 && !this.#maybeMore && this.#held === 0 && this.#inFlight === 0) {
        // Once mode: every release bumps the epoch, so nothing finished while this fetch ran.
        this.#endOnce();
        return;
      }
    }
    this.#maybeFetch();
  }

  #receive(jobs: FetchedJob[]): void {
    let i = 0;
    while (i < jobs.length && this.#waiters.length > 0) this.#waiters.shift()!(jobs[i++]);
    if (i === jobs.length) return;
    const now = this.#c.clock.now();
    for (; i < jobs.length; i++) {
      this.#jobs.push(jobs[i]);
      this.#at.push(now);
    }
    if (!this.#cancelTtl) this.#armTtl();
  }

  #armTtl(): void {
    if (this.#head >= this.#jobs.length) return;
    const due = this.#at[this.#head] + this.#c.ttl - this.#c.clock.now();
    this.#cancelTtl = this.#c.clock.setTimeout(() => {
      this.#cancelTtl = undefined;
      void this.#expire();
    }, Math.max(0, due));
  }

  async #expire(): Promise<void> {
    if (this.#mode !== "continuous" && this.#mode !== "once") return;
    const cutoff = this.#c.clock.now() - this.#c.ttl;
    const stale: FetchedJob[] = [];
    while (this.#head < this.#jobs.length && this.#at[this.#head] <= cutoff) {
      stale.push(this.#shift());
    }
    this.#armTtl();
    if (stale.length === 0) return;
    this.#c.logger.debug(
      `${stale.length} job(s) waited over ${this.#c.ttl} ms in the local queue; handing them back`,
    );
    // Fetch again only once a slot is free, or the same jobs would come straight back.
    if (this.#running >= this.#c.concurrency) this.#expired = true;
    await this.#giveBack(stale, "ttl");
  }

  async #handBackQueued(): Promise<void> {
    const queued = this.#jobs.slice(this.#head);
    this.#jobs = [];
    this.#at = [];
    this.#head = 0;
    if (queued.length > 0) await this.#giveBack(queued, "shutdown");
  }

  async #giveBack(jobs: FetchedJob[], reason: "ttl" | "shutdown"): Promise<void> {
    this.#c.events?.returned(jobs, reason);
    await this.#c.handBack(jobs);
    this.release(jobs.length, true);
  }

  #armPoll(): void {
    if (this.#cancelPoll || this.#mode !== "continuous") return;
    this.#cancelPoll = this.#c.clock.setTimeout(() => {
      this.#cancelPoll = undefined;
      this.nudge(0);
    }, this.#c.pollInterval);
  }

  #startDelay(delay: Required<RefetchDelayOptions>): void {
    const ms = Math.round((0.5 + this.#random()) * delay.durationMs);
    this.#delayAbortAt = this.#random() * delay.maxAbortThreshold || Infinity;
    if (this.#delayCount >= this.#delayAbortAt) return; // enough arrived during the fetch
    this.#c.events?.refetchDelayStart(ms);
    this.#cancelDelay = this.#c.clock.setTimeout(() => {
      this.#cancelDelay = undefined;
      this.#c.events?.refetchDelayExpired();
      this.#endDelay();
    }, ms);
  }

  #endDelay(): void {
    this.#cancelDelay?.();
    this.#cancelDelay = undefined;
    // Never wait for the poll: whatever arrived during the delay is fetched now.
    this.#maybeFetch();
  }

  #endOnce(): void {
    if (this.#mode !== "once") return;
    const error = this.#onceFailed ? this.#onceError : undefined;
    this.#mode = "idle";
    this.#cancelTimers();
    for (const w of this.#waiters.splice(0)) w(undefined);
    this.#c.onOnceEnd(error);
  }
}
