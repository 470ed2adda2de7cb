/**
 * The worker's side of cancellation: LISTEN on Spool's cancel channel
 * (`src/sql/jobs_cancel.ts`) and abort the jobs a notification names when
 * they are this worker's. Every re-established LISTEN after the first also
 * asks for a lock check (a reconnect: the server may have restarted).
 *
 * @module
 */
import type { Driver, Subscription } from "../driver/types.ts";
import type { Logger } from "../logger.ts";
import { CANCEL_CHANNEL } from "../sql/jobs_cancel.ts";
import { classifyFailure, retryDelay } from "../internal/backoff.ts";
import type { Clock } from "../runtime/types.ts";

/** What a {@linkcode CancelListener} calls. */
export interface CancelListenerConfig {
  driver: Driver;
  workerId: string;
  logger: Logger;
  /** Cancel these jobs of this worker. */
  cancel(ids: string[], reason: string | undefined): void;
  /** LISTEN was re-established after a drop. */
  reconnected(): void;
}

/** Subscribes while the worker runs; `start`/`stop` are idempotent. */
export class CancelListener {
  #config: CancelListenerConfig;
  #sub: Subscription | undefined;
  #started = false;

  constructor(config: CancelListenerConfig) {
    this.#config = config;
  }

  /** Subscribe (nothing when the driver cannot LISTEN). */
  async start(): Promise<void> {
    const { driver, logger } = this.#config;
    if (this.#started || !driver.capabilities.listen) return;
    this.#started = true;
    let listens = 0;
    const sub = await driver.listen(CANCEL_CHANNEL, {
      onNotify: (payload) => this.#on(payload),
      onListen: () => {
        if (++listens > 1) this.#config.reconnected();
      },
      onError: (error) =>
        logger.debug("LISTEN for cancellations failed; reconnecting", { error: String(error) }),
    });
    if (this.#started) this.#sub = sub;
    else await sub.close();
  }

  /** Unsubscribe. */
  async stop(): Promise<void> {
    this.#started = false;
    const sub = this.#sub;
    this.#sub = undefined;
    await sub?.close().catch((error) =>
      this.#config.logger.warn("UNLISTEN failed", { error: String(error) })
    );
  }

  #on(payload: string): void {
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null) return;
    const { workerId, jobIds, reason } = message as Record<string, unknown>;
    if (workerId !== this.#config.workerId || !Array.isArray(jobIds)) return;
    const ids = jobIds.filter((id): id is string => typeof id === "string");
    this.#config.cancel(ids, typeof reason === "string" ? reason : undefined);
  }
}

/** Tries for a cancel write that fails for another reason than a connection fault or a race. */
const MAX_OTHER_TRIES = 3;
/** Tries in all (connection faults are retried with backoff, about 10 minutes at most). */
const MAX_TRIES = 30;

/**
 * Write a cancelled job's permanent failure, retrying connection faults and
 * lost races with backoff like the completer. Resolves with the row, or
 * undefined when the job is no longer held (or the write was given up, logged).
 */
export async function writeWithRetries<T>(
  write: () => Promise<T>,
  options: {
    clock: Clock;
    logger: Logger;
    what: string;
    sqlState: (error: unknown) => string | undefined;
  },
): Promise<T | undefined> {
  let others = 0;
  for (let attempt = 0;; attempt++) {
    try {
      return await write();
    } catch (error) {
      const kind = classifyFailure(error, options.sqlState(error));
      if (kind === "other") others++;
      if (others >= MAX_OTHER_TRIES || attempt + 1 >= MAX_TRIES) {
        options.logger.error(
          `Could not ${options.what} after ${attempt + 1} tries; the job stays locked until a ` +
            "sweeper or the stale-lock reset frees it",
          { error: String(error) },
        );
        return undefined;
      }
      await options.clock.sleep(retryDelay(kind, attempt));
    }
  }
}
