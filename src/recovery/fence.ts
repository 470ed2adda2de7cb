/**
 * The fence: a worker that cannot renew its heartbeat stops its own jobs
 * before anyone may sweep them.
 *
 * A sweeper recovers a worker's jobs once its `last_heartbeat_at` (the
 * server's `now()` when a renewal ran) is older than the stale threshold T.
 * A renewal sent at local time `s` runs on the server no earlier than `s`, so
 * no sweep can take this worker's jobs before `s + T` of the last renewal
 * that succeeded. The fence trips at `s + ¾·T` (timed from when that renewal
 * was sent, not from when its answer came): the worker aborts every job it
 * runs (reason lock lost) and starts none, leaving `¼·T` for the tasks to
 * stop. The next successful renewal lifts it. The options require T ≥ 2 ×
 * the heartbeat interval, so a healthy worker (a renewal every interval)
 * keeps at least ¼·T of slack for slow renewals before it would trip.
 *
 * What it relies on: the worker's event loop is not blocked for ¼·T (a
 * blocked loop fires the timer late), and the server's clock does not jump
 * forward by ¼·T. It is timed by the worker's clock only (no clock
 * agreement between hosts is needed).
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";

/** Share of the stale threshold after which a worker without a heartbeat fences itself. */
export const FENCE_SHARE = 0.75;

/** Milliseconds without a successful renewal after which the fence trips. */
export function fenceAfterMs(staleThreshold: number): number {
  return Math.floor(staleThreshold * FENCE_SHARE);
}

/** What a {@linkcode Fence} needs. */
export interface FenceConfig {
  clock: Clock;
  logger: Logger;
  workerId: string;
  /** The worker's stale threshold (ms). */
  staleThreshold: number;
  /** Abort every running job and start none. */
  trip(): void;
  /** A renewal succeeded after a trip: jobs may start again. */
  recover(): void;
}

/** Arms a timer from each successful renewal; see the module doc. */
export class Fence {
  #config: FenceConfig;
  #afterMs: number;
  #cancel: (() => void) | undefined;
  #tripped = false;
  #lastSent = -Infinity;

  constructor(config: FenceConfig) {
    this.#config = config;
    this.#afterMs = fenceAfterMs(config.staleThreshold);
  }

  /** True between a trip and the next successful renewal. */
  get tripped(): boolean {
    return this.#tripped;
  }

  /** A renewal sent at `sentAt` (the clock's time) succeeded. */
  renewed(sentAt: number): void {
    // Renewals may finish out of order; only the latest send time counts.
    if (sentAt < this.#lastSent) return;
    this.#lastSent = sentAt;
    this.#cancel?.();
    const { clock } = this.#config;
    const due = sentAt + this.#afterMs - clock.now();
    if (due <= 0) {
      // The answer came too late to count: the worker may already be swept.
      this.#trip(clock.now() - sentAt);
      return;
    }
    this.#cancel = clock.setTimeout(() => {
      this.#cancel = undefined;
      this.#trip(this.#config.clock.now() - this.#lastSent);
    }, due);
    if (this.#tripped) {
      this.#tripped = false;
      this.#config.logger.info(
        `Heartbeat of worker ${this.#config.workerId} renewed; jobs may start again`,
      );
      this.#config.recover();
    }
  }

  /** Disarm (the worker stopped). */
  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #trip(sinceMs: number): void {
    if (this.#tripped) return;
    this.#tripped = true;
    this.#config.logger.error(
      `Worker ${this.#config.workerId} could not renew its heartbeat for ${sinceMs} ms ` +
        `(${Math.round(FENCE_SHARE * 100)} % of the ${this.#config.staleThreshold} ms stale ` +
        "threshold): aborting its running jobs (lock lost) before another worker may " +
        "recover them; no job starts until the heartbeat is renewed",
    );
    this.#config.trip();
  }
}
