/**
 * Cron's durations (the `fill` option). The parser lives in
 * `src/internal/duration.ts` so that lower layers (task timeouts) share it.
 *
 * @module
 */
export { parseDuration, parseTimePhrase } from "../internal/duration.ts";
