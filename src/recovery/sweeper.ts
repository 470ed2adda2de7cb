/**
 * The sweeper service: every `interval` (jittered ±10 %, the first run at a
 * random moment within the first interval so a fleet does not sweep in
 * step) it recovers the jobs of dead workers. Any number of workers run it;
 * the sweep statement's advisory lock lets one sweep at a time, and a sweep
 * that finds the lock taken does nothing. The sweeping worker never sweeps
 * itself.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import {
  type SweepSettings,
  type SweepStaleWorkersResult,
  sweepWith,
} from "../utils/workers_admin.ts";

/** What a {@linkcode SweeperService} needs. */
export interface SweeperConfig {
  db: Queryable;
  schema: string;
  /** The sweeping worker (excluded from the sweep). */
  workerId: string;
  logger: Logger;
  clock: Clock;
  /** Milliseconds between sweeps. */
  interval: number;
  settings: SweepSettings;
  /** Random source in [0, 1). @default {Math.random} */
  random?: () => number;
  /** Told about every sweep that ran (lifecycle hooks). */
  onSweep?: (result: SweepStaleWorkersResult) => void;
}

/** Periodic stale-worker sweep. `start`/`stop` are idempotent. */
export class SweeperService {
  #config: SweeperConfig;
  #cancel: (() => void) | undefined;
  #running: Promise<unknown> | undefined;
  #started = false;

  constructor(config: SweeperConfig) {
    this.#config = config;
  }

  /** Schedule sweeps until `stop()`. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const random = this.#config.random ?? Math.random;
    this.#schedule(Math.floor(random() * this.#config.interval));
  }

  /** Cancel the schedule and wait for a sweep in progress. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#cancel?.();
    this.#cancel = undefined;
    await this.#running;
  }

  /** Sweep now. Errors are logged, not thrown (undefined then). */
  async runOnce(): Promise<SweepStaleWorkersResult | undefined> {
    const { db, schema, workerId, logger, settings } = this.#config;
    try {
      const result = await sweepWith(db, schema, {
        ...settings,
        dryRun: false,
        excludeIds: [workerId],
      });
      this.#config.onSweep?.(result);
      const dead = [...result.workerIds, ...result.unregisteredIds];
      if (dead.length > 0 || result.jobIds.length > 0) {
        logger.warn(
          `Recovered ${result.jobIds.length} job(s) and ${result.unlockedQueues} queue(s) ` +
            `from ${dead.length} dead worker(s)`,
          { workerIds: dead, jobIds: result.jobIds },
        );
      }
      return result;
    } catch (error) {
      logger.warn("Sweeping stale workers failed; trying again at the next interval", {
        error: String(error),
      });
      return undefined;
    }
  }

  #schedule(delayMs: number): void {
    this.#cancel = this.#config.clock.setTimeout(() => {
      this.#cancel = undefined;
      if (!this.#started) return;
      const run = this.runOnce().then(() => {
        if (this.#running === run) this.#running = undefined;
        if (!this.#started) return;
        const random = this.#config.random ?? Math.random;
        this.#schedule(Math.round(this.#config.interval * (0.9 + 0.2 * random())));
      });
      this.#running = run;
    }, delayMs);
  }
}
