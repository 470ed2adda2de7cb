/**
 * The five time fields of a cron expression (minute, hour, day of month,
 * month, day of week) and their meaning, as graphile-worker defines it:
 *
 * - each field is a comma-separated list of `n`, `a-b`, `*` and `*\/n`;
 *   Spool also accepts a stepped range `a-b/n` (graphile-worker does not);
 * - day of week is 0–6 with 0 = Sunday; 7 also means Sunday;
 * - a range must go upwards (`5-3` and `3-3` are errors, as in graphile-worker);
 * - when both day of month and day of week are restricted (not every value),
 *   a day matches if EITHER matches (classic cron); otherwise only the
 *   restricted one counts. "Restricted" is decided on the values, so `1-31`
 *   counts as unrestricted, exactly as graphile-worker decides it.
 *
 * @module
 */

/** Parsed time fields: sorted, unique values. */
export interface CronFields {
  /** Minutes, 0–59. */
  readonly minutes: readonly number[];
  /** Hours, 0–23. */
  readonly hours: readonly number[];
  /** Days of the month, 1–31. */
  readonly dates: readonly number[];
  /** Months, 1–12. */
  readonly months: readonly number[];
  /** Days of the week, 0–6 (0 = Sunday). */
  readonly dows: readonly number[];
}

/** A piece of source text with its 0-based offset in the line. */
export interface Token {
  readonly text: string;
  readonly offset: number;
}

/** A parse problem at a 0-based offset; callers turn it into a public error. */
export class PositionedProblem extends Error {
  readonly offset: number;
  readonly expected: string;
  readonly found: string;
  constructor(offset: number, expected: string, found: string) {
    super(`expected ${expected}, found ${found}`);
    this.offset = offset;
    this.expected = expected;
    this.found = found;
  }
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Day of week: max + 1 (7) means min (Sunday). */
  readonly wrap: boolean;
}

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59, wrap: false },
  { name: "hour", min: 0, max: 23, wrap: false },
  { name: "day of month", min: 1, max: 31, wrap: false },
  { name: "month", min: 1, max: 12, wrap: false },
  { name: "day of week", min: 0, max: 6, wrap: true },
];

const PART = /^(?:(\*)|([0-9]+)(?:-([0-9]+))?)(?:\/([0-9]*))?$/;

function found(text: string): string {
  return text.length === 0 ? "nothing" : JSON.stringify(text);
}

function parseField(token: Token, spec: FieldSpec): number[] {
  const top = spec.wrap ? spec.max + 1 : spec.max;
  const what = `${spec.name} (${spec.min}-${top}): a number, a range a-b, a list, * or */n`;
  const values = new Set<number>();
  let offset = token.offset;
  for (const part of token.text.split(",")) {
    const m = PART.exec(part);
    if (!m) throw new PositionedProblem(offset, `a ${what}`, found(part));
    const [, star, a, b, step] = m;
    if (a !== undefined && b === undefined && step !== undefined) {
      throw new PositionedProblem(
        offset,
        `a ${what} (a step needs * or a range before it)`,
        found(part),
      );
    }
    let from = spec.min;
    let to = spec.max;
    if (!star) {
      from = Number(a);
      to = b === undefined ? from : Number(b);
      const check = (n: number, at: number) => {
        if (n < spec.min || n > top) {
          throw new PositionedProblem(
            at,
            `a ${spec.name} from ${spec.min} to ${top}`,
            found(String(n)),
          );
        }
      };
      check(from, offset);
      if (b !== undefined) {
        check(to, offset + a.length + 1);
        if (to <= from) {
          throw new PositionedProblem(
            offset,
            `a range whose end is larger than its start`,
            found(part),
          );
        }
      }
    }
    let by = 1;
    if (step !== undefined) {
      by = Number(step);
      if (step === "" || by < 1) {
        const at = offset + part.indexOf("/") + 1;
        throw new PositionedProblem(at, "a step of at least 1 after /", found(step));
      }
    }
    for (let n = from; n <= to; n += by) values.add(spec.wrap && n === spec.max + 1 ? spec.min : n);
    offset += part.length + 1;
  }
  return [...values].sort((x, y) => x - y);
}

/** Parse five field tokens. Throws {@linkcode PositionedProblem}. */
export function parseFields(tokens: readonly Token[]): CronFields {
  const [minutes, hours, dates, months, dows] = FIELDS.map((spec, i) =>
    parseField(tokens[i], spec)
  );
  return { minutes, hours, dates, months, dows };
}

/** The calendar parts of one minute, in the zone being matched. */
export interface Digest {
  readonly minute: number;
  readonly hour: number;
  /** Day of month, 1–31. */
  readonly date: number;
  /** 1–12. */
  readonly month: number;
  /** 0–6, 0 = Sunday. */
  readonly dow: number;
}

/** The UTC digest of a timestamp in milliseconds. */
export function utcDigest(ts: number): Digest {
  const d = new Date(ts);
  return {
    minute: d.getUTCMinutes(),
    hour: d.getUTCHours(),
    date: d.getUTCDate(),
    month: d.getUTCMonth() + 1,
    dow: d.getUTCDay(),
  };
}

/** Does `digest` match `fields` (with the day-of-month / day-of-week OR rule)? */
export function fieldsMatch(fields: CronFields, digest: Digest): boolean {
  if (
    !fields.minutes.includes(digest.minute) || !fields.hours.includes(digest.hour) ||
    !fields.months.includes(digest.month)
  ) return false;
  const datesRestricted = fields.dates.length !== 31;
  const dowsRestricted = fields.dows.length !== 7;
  if (datesRestricted && dowsRestricted) {
    return fields.dates.includes(digest.date) || fields.dows.includes(digest.dow);
  }
  if (datesRestricted) return fields.dates.includes(digest.date);
  if (dowsRestricted) return fields.dows.includes(digest.dow);
  return true;
}

/**
 * The fields as a normalised expression: `*` for a field holding every value,
 * else an explicit list. Used as croner's pattern, so croner's own
 * `*`-based day-of-month/day-of-week rule agrees with {@linkcode fieldsMatch}.
 */
export function fieldsToExpression(fields: CronFields): string {
  const sizes = [60, 24, 31, 12, 7];
  const parts = [fields.minutes, fields.hours, fields.dates, fields.months, fields.dows];
  return parts.map((values, i) => values.length === sizes[i] ? "*" : values.join(",")).join(" ");
}

/** Split a bare expression (`"*\/5 * * * *"`) into tokens, or throw a problem. */
export function tokenizeExpression(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\S+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) tokens.push({ text: m[0], offset: m.index });
  if (tokens.length !== 5) {
    const at = tokens.length > 5 ? tokens[5].offset : text.length;
    throw new PositionedProblem(
      at,
      "exactly 5 fields (minute hour day-of-month month day-of-week)",
      `${tokens.length} field${tokens.length === 1 ? "" : "s"}`,
    );
  }
  return tokens;
}
