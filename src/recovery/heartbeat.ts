/**
 * The heartbeat service: registers the worker in `_private_workers` and
 * renews its heartbeat every `interval`. A failed renewal is logged and
 * retried with backoff (never slower than the interval), so a dropped
 * connection or a restarting server only delays it. When a renewal finds the
 * row gone, a sweeper judged this worker dead (its heartbeat was older than
 * the threshold, e.g. a long outage or a blocked event loop): its jobs may
 * already run elsewhere, which is logged as an error.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { classifyFailure, retryDelay } from "../internal/backoff.ts";
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import { workerDeregister, workerHeartbeat } from "../sql/workers.ts";

/** What a {@linkcode HeartbeatService} needs. */
export interface HeartbeatConfig {
  db: Queryable;
  schema: string;
  workerId: string;
  logger: Logger;
  clock: Clock;
  /** Milliseconds between renewals. */
  interval: number;
  /** Stored with the row. */
  metadata: unknown;
  /** The driver's SQLSTATE reader, to classify failures. */
  sqlState?: (error: unknown) => string | undefined;
  /**
   * Told after every successful registration or renewal: when it was sent
   * (the clock's time), whether the row had been swept, and whether renewals
   * had failed before this one (the connection may have been re-established).
   */
  onRenewed?: (sentAt: number, info: { swept: boolean; afterFailures: boolean }) => void;
}

/** Registers and renews one worker's heartbeat. `start`/`stop` are idempotent. */
export class HeartbeatService {
  #config: HeartbeatConfig;
  #cancel: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #started = false;
  #registered = false;
  #failures = 0;
  #lastBeatAt: number | null = null;

  constructor(config: HeartbeatConfig) {
    this.#config = config;
  }

  /** When (clock milliseconds) the registration was last written, or `null` before the first. */
  get lastBeatAt(): number | null {
    return this.#lastBeatAt;
  }

  /** Register now (throws when the database cannot be reached). */
  async register(): Promise<void> {
    const { db, schema, workerId, metadata, clock } = this.#config;
    const sentAt = clock.now();
    await workerHeartbeat(db, { schema, workerId, metadata });
    this.#registered = true;
    this.#config.onRenewed?.(sentAt, { swept: false, afterFailures: false });
    this.#lastBeatAt = this.#config.clock.now();
  }

  /** Renew the heartbeat every interval until `stop()`. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule(this.#config.interval);
  }

  /** Stop renewing and wait for a renewal in flight. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#cancel?.();
    this.#cancel = undefined;
    await this.#running;
  }

  /**
   * Remove the registration, unless the worker still holds locks (then the
   * row is left to go stale, and a sweeper recovers the jobs). Errors are
   * logged, not thrown.
   */
  async deregister(): Promise<void> {
    if (!this.#registered) return;
    const { db, schema, workerId, logger } = this.#config;
    try {
      const removed = await workerDeregister(db, { schema, workerId });
      this.#registered = !removed;
      if (!removed) {
        logger.warn(
          `Worker ${workerId} still holds locks it could not release; it stays registered ` +
            "so that a sweeper recovers them once its heartbeat is stale",
        );
      }
    } catch (error) {
      logger.warn(
        `Could not deregister worker ${workerId}; its row goes stale and is swept later`,
        { error: String(error) },
      );
    }
  }

  /** Renew once now. Errors are logged, not thrown; returns false when it failed. */
  async beat(): Promise<boolean> {
    const { db, schema, workerId, metadata, logger, sqlState } = this.#config;
    const sentAt = this.#config.clock.now();
    try {
      const { inserted } = await workerHeartbeat(db, { schema, workerId, metadata });
      // A renewal slower than the interval may have waited for a new connection too.
      const afterFailures = this.#failures > 0 ||
        this.#config.clock.now() - sentAt > this.#config.interval;
      this.#lastBeatAt = this.#config.clock.now();
      if (this.#failures > 0) {
        logger.info(`Heartbeat of worker ${workerId} renewed after ${this.#failures} failure(s)`);
      }
      this.#failures = 0;
      if (inserted && this.#registered) {
        logger.error(
          `Worker ${workerId} was declared dead by a sweeper (no heartbeat within the stale ` +
            "threshold) and has registered again; jobs it was running may have been recovered " +
            "and may be running elsewhere too",
        );
      }
      const swept = inserted && this.#registered;
      this.#registered = true;
      this.#config.onRenewed?.(sentAt, { swept, afterFailures });
      return true;
    } catch (error) {
      this.#failures++;
      const kind = classifyFailure(error, sqlState?.(error));
      const log = this.#failures === 1 ? logger.warn : logger.debug;
      log.call(logger, `Heartbeat of worker ${workerId} failed (${kind}); retrying`, {
        error: String(error),
        failures: this.#failures,
      });
      return false;
    }
  }

  #schedule(delayMs: number): void {
    this.#cancel = this.#config.clock.setTimeout(() => {
      this.#cancel = undefined;
      if (!this.#started) return;
      const run = this.beat().then((ok) => {
        if (this.#running === run) this.#running = undefined;
        if (!this.#started) return;
        const interval = this.#config.interval;
        this.#schedule(
          ok ? interval : Math.min(interval, retryDelay("connection", this.#failures - 1)),
        );
      });
      this.#running = run;
    }, delayMs);
  }
}
