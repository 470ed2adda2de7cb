/**
 * Periodic reset of stale locks (jobs and queues locked more than 4 hours
 * ago, presumably by a worker that died). The first run happens at a random
 * moment within the first minute, then every 8–10 minutes (random), like
 * graphile-worker; `runOnce()` runs it immediately.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import { locksReset, type LocksResetResult } from "../sql/locks_reset.ts";

/** What a {@linkcode LockResetService} needs. */
export interface LockResetConfig {
  db: Queryable;
  schema: string;
  logger: Logger;
  clock: Clock;
  /** Set when `useLocalTime` is on. */
  localClock: Clock | undefined;
  /** Upper bound of the first delay. @default {60000} */
  firstRunWithinMs?: number;
  /** Shortest delay between runs. @default {480000} */
  minIntervalMs?: number;
  /** Longest delay between runs. @default {600000} */
  maxIntervalMs?: number;
  /** Random source in [0, 1). @default {Math.random} */
  random?: () => number;
}

/** Service that clears stale locks on a randomised schedule. */
export class LockResetService {
  #config: LockResetConfig;
  #cancel: (() => void) | undefined;
  #running: Promise<unknown> | undefined;
  #started = false;

  constructor(config: LockResetConfig) {
    this.#config = config;
  }

  /** Schedule the first run (idempotent). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const { firstRunWithinMs = 60_000, maxIntervalMs = 600_000 } = this.#config;
    const random = this.#config.random ?? Math.random;
    this.#schedule(Math.floor(random() * Math.min(firstRunWithinMs, maxIntervalMs)));
  }

  /** Cancel the schedule and wait for a run in progress (idempotent). */
  async stop(): Promise<void> {
    this.#started = false;
    this.#cancel?.();
    this.#cancel = undefined;
    await this.#running;
  }

  /** Reset stale locks now. Errors are logged, not thrown. */
  async runOnce(): Promise<LocksResetResult | undefined> {
    const { db, schema, logger, localClock } = this.#config;
    try {
      const result = await locksReset(db, {
        schema,
        now: localClock ? new Date(localClock.now()) : undefined,
      });
      if (result.jobs > 0 || result.queues > 0) {
        logger.warn(
          `Reset stale locks (older than 4 hours) on ${result.jobs} job(s) and ${result.queues} queue(s)`,
        );
      }
      return result;
    } catch (error) {
      logger.error("Resetting stale locks failed", { error: String(error) });
      return undefined;
    }
  }

  #schedule(delayMs: number): void {
    this.#cancel = this.#config.clock.setTimeout(() => {
      this.#cancel = undefined;
      if (!this.#started) return;
      const run = this.runOnce();
      this.#running = run;
      void run.then(() => {
        if (this.#running === run) this.#running = undefined;
        if (!this.#started) return;
        const { minIntervalMs = 480_000, maxIntervalMs = 600_000 } = this.#config;
        const random = this.#config.random ?? Math.random;
        this.#schedule(minIntervalMs + Math.floor(random() * (maxIntervalMs - minIntervalMs)));
      });
    }, delayMs);
  }
}
