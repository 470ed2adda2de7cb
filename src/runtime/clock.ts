import type { Clock } from "./types.ts";

/**
 * The real clock, backed by the global timers (which Deno and Bun share).
 *
 * @example
 * ```ts
 * import { systemClock } from "@spool/worker";
 * await systemClock.sleep(10);
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const id = setTimeout(fn, ms);
    return () => clearTimeout(id);
  },
  sleep(ms, signal) {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(id);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const id = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    });
  },
};
