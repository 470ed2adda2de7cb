/**
 * Durations in graphile-worker's time-phrase syntax, used by the cron `fill`
 * option and by task timeouts: a number followed by a unit, repeated (`1h`, `30m`, `1d2h`, `1w`).
 * Units: `s` second, `m` minute, `h` hour, `d` day (24 h), `w` week (7 d).
 * Spool also accepts whitespace between the parts (`1d 2h`) in typed
 * schedules; crontab text cannot contain spaces inside an option value.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /^([0-9]+)([smhdw])/;

/**
 * Parse a time phrase into milliseconds, or return `undefined` when it is not
 * one. `allowSpaces` permits whitespace between parts (`"1d 2h"`).
 */
export function parseTimePhrase(text: string, allowSpaces = false): number | undefined {
  let rest = allowSpaces ? text.trim() : text;
  if (rest.length === 0) return undefined;
  let ms = 0;
  while (rest.length > 0) {
    const m = PART.exec(rest);
    if (!m) return undefined;
    ms += Number(m[1]) * UNIT_MS[m[2]];
    rest = rest.slice(m[0].length);
    if (allowSpaces) rest = rest.trimStart();
  }
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * Parse a fill duration given to a typed schedule: a time phrase such as
 * `"1h"`, `"30m"`, `"1d 2h"` or `"1w"`, or a whole number of milliseconds.
 * Throws {@linkcode ValidationError} naming `field` otherwise.
 *
 * @example
 * ```ts
 * import { parseDuration } from "@spool/worker";
 * parseDuration("1d 2h"); // 93_600_000
 * ```
 */
export function parseDuration(value: string | number, field = "fill"): number {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw new ValidationError(field, `must be a whole number of milliseconds >= 0, got ${value}`);
  }
  if (typeof value === "string") {
    const ms = parseTimePhrase(value, true);
    if (ms !== undefined) return ms;
  }
  throw new ValidationError(
    field,
    `expected a duration such as "30m", "1h", "1d 2h" or "1w" (units s, m, h, d, w), got ${
      JSON.stringify(value)
    }`,
  );
}
