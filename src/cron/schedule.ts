/**
 * When a cron item fires. Without a time zone (or with `UTC`) the fields are
 * matched against each UTC minute exactly as graphile-worker does. With a
 * time zone, croner decides, using its documented DST rules:
 *
 * - a fixed-time schedule (minute and hour each one value, e.g. `30 2 * * *`)
 *   whose local time falls in a spring-forward gap runs once at the first
 *   valid minute after the gap (Europe/Paris: 03:00 local); when the local
 *   time occurs twice (fall back) it runs once, at the first occurrence;
 * - any other schedule (`*\/30 * * * *`, `0 2,14 * * *`) follows the wall
 *   clock: minutes inside a gap do not exist and are skipped, and minutes that
 *   occur twice run twice.
 *
 * @module
 */
import { Cron } from "croner";
import { ValidationError } from "../errors.ts";
import { type CronFields, fieldsMatch, fieldsToExpression, utcDigest } from "./fields.ts";

/** A compiled schedule. */
export interface CronSchedule {
  /** The expression as written (five fields). */
  readonly expression: string;
  /** IANA zone name, or `null` for UTC. */
  readonly timezone: string | null;
  /** The parsed fields. */
  readonly fields: CronFields;
  /** Does the schedule fire at `ts` (milliseconds, a whole UTC minute)? */
  matches(ts: number): boolean;
}

/** Check an IANA time zone name; returns it, or `null` for UTC. Throws ValidationError. */
export function checkTimezone(zone: unknown, field = "timezone"): string | null {
  if (typeof zone !== "string" || zone.length === 0) {
    throw new ValidationError(field, 'must be an IANA time zone name such as "Europe/Paris"');
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch {
    throw new ValidationError(
      field,
      `unknown time zone ${JSON.stringify(zone)}; use an IANA name such as "Europe/Paris" or "UTC"`,
    );
  }
  return zone === "UTC" || zone === "Etc/UTC" ? null : zone;
}

/** Build the schedule for parsed `fields` in `timezone` (`null` = UTC). */
export function compileSchedule(
  expression: string,
  fields: CronFields,
  timezone: string | null,
): CronSchedule {
  if (timezone === null) {
    return {
      expression,
      timezone,
      fields,
      matches: (ts) => fieldsMatch(fields, utcDigest(ts)),
    };
  }
  const cron = new Cron(fieldsToExpression(fields), { timezone, mode: "5-part", paused: true });
  // The next fire time after `from`, cached: minutes are usually asked in order.
  let from = Number.POSITIVE_INFINITY;
  let next = Number.NEGATIVE_INFINITY;
  return {
    expression,
    timezone,
    fields,
    matches(ts) {
      if (!(from < ts && ts <= next)) {
        from = ts - 1;
        next = cron.nextRun(new Date(from))?.getTime() ?? Number.POSITIVE_INFINITY;
      }
      return ts === next;
    },
  };
}
