/**
 * Records job outcomes: completions and failures. Calls made while a write is
 * in flight are gathered and written together in the next round trip (no
 * timers), so a busy worker completes jobs in batches and an idle one writes
 * at once. A write that fails because the connection dropped, the server is
 * restarting or the statement lost a race is retried with backoff until it
 * succeeds: outcomes are never dropped (see `src/internal/backoff.ts`). Any
 * other error is retried a few times, then logged and given up (the job stays
 * locked until a sweeper or the stale-lock reset frees it). On shutdown,
 * {@linkcode Completer.abandonAfter} bounds the wait.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import { jobsComplete } from "../sql/jobs_complete.ts";
import { type FailedJobRow, type JobFailure, jobsFail } from "../sql/jobs_fail.ts";
import { withOneByOneFallback } from "./_batch_fallback.ts";
import { errorSqlState } from "../driver/_sqlstate.ts";
import { classifyFailure, retryDelay } from "../internal/backoff.ts";

/** What a {@linkcode Completer} needs. */
export interface CompleterConfig {
  db: Queryable;
  schema: string;
  workerId: string;
  logger: Logger;
  clock: Clock;
  /** Set when `useLocalTime` is on. */
  localClock: Clock | undefined;
  /** Milliseconds a completion waits to share a write; -1 (default): write at once. */
  completeJobBatchDelay?: number;
  /** Milliseconds a failure waits to share a write; -1 (default): write at once. */
  failJobBatchDelay?: number;
  /** Told about jobs whose outcome write settled (written or given up). */
  held?: { release(ids: Iterable<string>): void };
}

interface Pending<T, R> {
  item: T;
  // deno-lint-ignore no-explicit-any
  done: (tag: any, result: R | undefined) => void;
  tag: unknown;
}

const settle = <R>(resolve: (r: R | undefined) => void, result: R | undefined) => resolve(result);

/** Tries for a write that fails for any other reason than a connection fault or a lost race. */
const MAX_OTHER_TRIES = 5;

/** A batch writer: `push` items, one write per batch, results per item. */
class Batcher<T, R> {
  #queue: Pending<T, R>[] = [];
  /** When the oldest item of `#queue` was pushed (with a batch delay only). */
  #oldestAt = 0;
  #running: Promise<void> | undefined;
  #write: (items: T[]) => Promise<Map<T, R> | undefined>;
  #describe: string;
  #logger: Logger;
  #clock: Clock;
  #delayMs: number;
  #settled: ((items: T[]) => void) | undefined;
  #abandon = new AbortController();

  constructor(
    describe: string,
    write: (items: T[]) => Promise<Map<T, R> | undefined>,
    logger: Logger,
    clock: Clock,
    delayMs = -1,
    /** Called once per batch when its write settled (written or given up), before the items' callbacks. */
    settled?: (items: T[]) => void,
  ) {
    this.#describe = describe;
    // A rejected batch statement is written again one job at a time (see _batch_fallback.ts).
    this.#write = withOneByOneFallback(write, { describe, logger });
    this.#logger = logger;
    this.#clock = clock;
    this.#delayMs = delayMs;
    this.#settled = settled;
  }

  push(item: T): Promise<R | undefined> {
    return new Promise((resolve) => this.pushThen(item, settle<R>, resolve));
  }

  /** Like `push`, without a promise: `done(tag, result)` is called once the write settled. */
  pushThen<U>(item: T, done: (tag: U, result: R | undefined) => void, tag: U): void {
    if (this.#queue.length === 0 && this.#delayMs > 0) this.#oldestAt = this.#clock.now();
    this.#queue.push({ item, done, tag });
    this.#running ??= this.#drain();
  }

  /** Resolves when everything pushed so far is written (or given up). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stop retrying: writes in progress give up after their current try. */
  abandon(): void {
    this.#abandon.abort();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        // With a batch delay, wait so that more outcomes share this write: up to the delay
        // since the oldest outcome came, so the time a write was in flight counts and a
        // batch that gathered during a write goes out at once (never longer than the delay,
        // whatever the wall clock does). A delay of 0 gathers what is handed in before a few
        // microtasks have run (jobs that finished together), without arming a timer (one
        // costs about a millisecond per batch).
        if (this.#delayMs > 0) {
          const wait = this.#oldestAt + this.#delayMs - this.#clock.now();
          if (wait > 0) await this.#clock.sleep(Math.min(wait, this.#delayMs));
        } else if (this.#delayMs === 0) {
          for (let i = 0; i < 3; i++) await null;
        }
        const batch = this.#queue;
        this.#queue = [];
        const items = batch.map((p) => p.item);
        const results = await this.#writeWithRetries(items);
        this.#settled?.(items);
        for (const p of batch) {
          try {
            p.done(p.tag, results?.get(p.item));
          } catch (error) {
            this.#logger.error(`A callback after a ${this.#describe} write threw`, {
              error: String(error),
            });
          }
        }
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #writeWithRetries(items: T[]): Promise<Map<T, R> | undefined> {
    let others = 0;
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#write(items);
      } catch (error) {
        const kind = classifyFailure(error, errorSqlState(error));
        if (kind === "other") others++;
        const abandoned = this.#abandon.signal.aborted;
        if (abandoned || others >= MAX_OTHER_TRIES) {
          this.#logger.error(
            `Could not ${this.#describe} ${items.length} job(s) after ${attempt + 1} tries` +
              (abandoned ? " before the shutdown deadline" : "") +
              "; they stay locked until a sweeper or the stale-lock reset frees them",
            { error: String(error) },
          );
          return undefined;
        }
        const delay = retryDelay(kind, attempt);
        const log = attempt === 0 ? this.#logger.warn : this.#logger.debug;
        log.call(
          this.#logger,
          `Could not ${this.#describe} ${items.length} job(s) (${kind}); retrying in ${delay} ms`,
          { error: String(error), attempt: attempt + 1 },
        );
        await this.#clock.sleep(delay, this.#abandon.signal);
      }
    }
  }
}

/** Writes completions and failures for one worker. */
export class Completer {
  #completes: Batcher<string, true>;
  #fails: Batcher<JobFailure, FailedJobRow>;
  #clock: Clock;

  constructor(config: CompleterConfig) {
    this.#clock = config.clock;
    const { db, schema, workerId, logger, clock, localClock } = config;
    const { completeJobBatchDelay = -1, failJobBatchDelay = -1 } = config;
    this.#completes = new Batcher<string, true>(
      "complete",
      async (ids) => {
        await jobsComplete(db, { schema, workerId, ids });
        return undefined;
      },
      logger,
      clock,
      completeJobBatchDelay,
      config.held && ((ids) => config.held!.release(ids)),
    );
    this.#fails = new Batcher<JobFailure, FailedJobRow>(
      "fail",
      async (failures) => {
        const rows = await jobsFail(db, {
          schema,
          workerId,
          failures,
          now: localClock ? new Date(localClock.now()) : undefined,
        });
        const byId = new Map(rows.map((r) => [r.id, r]));
        const out = new Map<JobFailure, FailedJobRow>();
        for (const f of failures) {
          const row = byId.get(f.id);
          if (row) out.set(f, row);
        }
        return out;
      },
      logger,
      clock,
      failJobBatchDelay,
      config.held && ((failures) => config.held!.release(failures.map((f) => f.id))),
    );
  }

  /** Delete a completed job (and unlock its queue). */
  async complete(id: string): Promise<void> {
    await this.#completes.push(id);
  }

  /**
   * `complete` for the hot path: no promise per job; `done(tag)` runs once the
   * write settled (written, or given up and logged).
   */
  completeThen<U>(id: string, done: (tag: U) => void, tag: U): void {
    this.#completes.pushThen(id, done, tag);
  }

  /**
   * Fail a job: record `message`, schedule the retry. Resolves with the
   * updated row, or `undefined` when the job was no longer locked by this worker.
   */
  async fail(failure: JobFailure): Promise<FailedJobRow | undefined> {
    return await this.#fails.push(failure);
  }

  /** Wait until every outcome handed in so far is written. */
  async flush(): Promise<void> {
    await Promise.all([this.#completes.flush(), this.#fails.flush()]);
  }

  /**
   * Bound the shutdown: after `ms`, writes still failing stop retrying (their
   * jobs stay locked for a sweeper). Returns a function that cancels the timer.
   */
  abandonAfter(ms: number): () => void {
    return this.#clock.setTimeout(() => {
      this.#completes.abandon();
      this.#fails.abandon();
    }, ms);
  }
}
