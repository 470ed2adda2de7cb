import type { Clock } from "../runtime/types.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. Timers fire in time order during
 * `tick()`/`tickTo()`.
 *
 * @example
 * ```ts
 * import { FakeClock } from "@spool/worker/testing";
 * const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
 * const slept = clock.sleep(1000);
 * await clock.tick(1000);
 * await slept;
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  /** Start the clock at `start` (milliseconds since the epoch; default: now). */
  constructor(start: number = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): () => void {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const cancel = this.setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        cancel();
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Move time forward by `ms`, firing due timers in order (awaiting microtasks between them). */
  tick(ms: number): Promise<void> {
    return this.tickTo(this.#now + ms);
  }

  /** Move time to `target` (never backwards for timers), firing due timers in order. */
  async tickTo(target: number): Promise<void> {
    for (;;) {
      const due = this.#timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
      await new Promise<void>((r) => setTimeout(r, 0));
    }
    this.#now = Math.max(this.#now, target);
  }

  /** Jump the wall clock (forwards or backwards) without firing timers: simulates a clock change. */
  jump(ms: number): void {
    this.#now += ms;
  }
}
