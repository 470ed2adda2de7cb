/**
 * Records job outcomes: completions and failures. Calls made while a write is
 * in flight are gathered and written together in the next round trip (no
 * timers), so a busy worker completes jobs in batches and an idle one writes
 * at once. A failed write is retried a few times before it is logged and
 * given up (the job then stays locked until the stale-lock reset).
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import { jobsComplete } from "../sql/jobs_complete.ts";
import { type FailedJobRow, type JobFailure, jobsFail } from "../sql/jobs_fail.ts";

/** What a {@linkcode Completer} needs. */
export interface CompleterConfig {
  db: Queryable;
  schema: string;
  workerId: string;
  logger: Logger;
  clock: Clock;
  /** Set when `useLocalTime` is on. */
  localClock: Clock | undefined;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R | undefined) => void;
}

const RETRY_DELAYS_MS = [50, 200, 1000, 3000];

/** A batch writer: `push` items, one write per batch, results per item. */
class Batcher<T, R> {
  #queue: Pending<T, R>[] = [];
  #running: Promise<void> | undefined;
  #write: (items: T[]) => Promise<Map<T, R> | undefined>;
  #describe: string;
  #logger: Logger;
  #clock: Clock;

  constructor(
    describe: string,
    write: (items: T[]) => Promise<Map<T, R> | undefined>,
    logger: Logger,
    clock: Clock,
  ) {
    this.#describe = describe;
    this.#write = write;
    this.#logger = logger;
    this.#clock = clock;
  }

  push(item: T): Promise<R | undefined> {
    return new Promise((resolve) => {
      this.#queue.push({ item, resolve });
      this.#running ??= this.#drain();
    });
  }

  /** Resolves when everything pushed so far is written (or given up). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        const items = batch.map((p) => p.item);
        const results = await this.#writeWithRetries(items);
        for (const p of batch) p.resolve(results?.get(p.item));
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #writeWithRetries(items: T[]): Promise<Map<T, R> | undefined> {
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#write(items);
      } catch (error) {
        if (attempt >= RETRY_DELAYS_MS.length) {
          this.#logger.error(
            `Could not ${this.#describe} ${items.length} job(s) after ${attempt + 1} tries; ` +
              "they stay locked until the stale-lock reset",
            { error: String(error) },
          );
          return undefined;
        }
        this.#logger.warn(`Could not ${this.#describe} jobs; retrying`, { error: String(error) });
        await this.#clock.sleep(RETRY_DELAYS_MS[attempt]);
      }
    }
  }
}

/** Writes completions and failures for one worker. */
export class Completer {
  #completes: Batcher<string, true>;
  #fails: Batcher<JobFailure, FailedJobRow>;

  constructor(config: CompleterConfig) {
    const { db, schema, workerId, logger, clock, localClock } = config;
    this.#completes = new Batcher<string, true>(
      "complete",
      async (ids) => {
        await jobsComplete(db, { schema, workerId, ids });
        return undefined;
      },
      logger,
      clock,
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
    );
  }

  /** Delete a completed job (and unlock its queue). */
  async complete(id: string): Promise<void> {
    await this.#completes.push(id);
  }

  /**
   * Fail a job: record `message`, schedule the retry. Resolves with the
   * updated row, or `undefined` when the job was no longer locked by this worker.
   */
  fail(failure: JobFailure): Promise<FailedJobRow | undefined> {
    return this.#fails.push(failure);
  }

  /** Wait until every outcome handed in so far is written. */
  async flush(): Promise<void> {
    await Promise.all([this.#completes.flush(), this.#fails.flush()]);
  }
}
