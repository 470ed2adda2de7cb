/**
 * Test helpers for code that uses Spool: a fake clock to drive services
 * without waiting.
 *
 * @example
 * ```ts
 * import { FakeClock } from "@spool/worker/testing";
 * const clock = new FakeClock(0);
 * await clock.tick(60_000);
 * ```
 *
 * @module
 */
export { FakeClock } from "./src/testing/fake_clock.ts";
export type { Clock } from "./src/runtime/types.ts";
