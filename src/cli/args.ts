/**
 * Command-line parsing on `node:util`'s `parseArgs`, and the value
 * converters every command shares. A bad flag or value is a
 * {@linkcode UsageError} naming it (exit code 2, nothing done).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseTimePhrase } from "../cron/duration.ts";

/** A usage mistake: an unknown or bad flag, a missing argument. Exit code 2. */
export class UsageError extends Error {
  /** The flag or argument at fault, e.g. `--concurrency` or `<json>`. */
  readonly flag: string | undefined;
  constructor(message: string, flag?: string) {
    super(message);
    this.name = "UsageError";
    this.flag = flag;
  }
}

/** One flag of a command. */
export interface FlagSpec {
  /** `boolean` flags take no value. */
  type: "string" | "boolean";
  /** One-letter alias. */
  short?: string;
  /** May be given more than once (values collected in order). */
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `N` or `MS`. */
  value?: string;
  /** One line of help. */
  help: string;
  /** Environment variable read when the flag is not given. */
  env?: string;
}

/** A flag taking a value: placeholder, help line, environment variable. */
export function stringFlag(value: string, help: string, env?: string): FlagSpec {
  return { type: "string", value, help, env };
}

/** A flag without a value. */
export function boolFlag(help: string, env?: string): FlagSpec {
  return { type: "boolean", help, env };
}

/** Parsed values: strings, booleans, or string lists for `multiple` flags. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Parse `argv` against `flags`; throws UsageError for unknown flags or missing values. */
export function parseFlags(
  argv: readonly string[],
  flags: Readonly<Record<string, FlagSpec>>,
): { values: FlagValues; positionals: string[] } {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, f] of Object.entries(flags)) {
    // parseArgs rejects keys present with an undefined value.
    options[name] = { type: f.type, multiple: f.multiple === true };
    if (f.short) options[name].short = f.short;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as FlagValues, positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const flag = /'(-[^' ]+)/.exec(message)?.[1];
    throw new UsageError(message.replace(/\. To specify a positional.*$/s, ""), flag);
  }
}

/** Where a value came from, for error messages: `--concurrency`, `SPOOL_CONCURRENCY`, `config.concurrency`. */
export type Source = string;

/** An integer within [min, max]. */
export function toInt(value: unknown, source: Source, min: number, max: number): number {
  const n = typeof value === "number"
    ? value
    : /^-?[0-9]+$/.test(String(value).trim())
    ? Number(String(value).trim())
    : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${source} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`,
      source,
    );
  }
  return n;
}

/** Milliseconds: a number (ms) or a time phrase (`500ms`, `30s`, `5m`, `1h`, `1h30m`). */
export function toMillis(value: unknown, source: Source, min = 0): number {
  let ms: number | undefined;
  if (typeof value === "number") ms = value;
  else {
    const text = String(value).trim();
    if (/^[0-9]+$/.test(text)) ms = Number(text);
    else if (/^[0-9]+ms$/.test(text)) ms = Number(text.slice(0, -2));
    else ms = parseTimePhrase(text);
  }
  if (ms === undefined || !Number.isSafeInteger(ms) || ms < min || ms > 2_147_483_647) {
    throw new UsageError(
      `${source} must be milliseconds (e.g. 5000) or a duration like 500ms, 30s, 5m, 1h ` +
        `(got ${JSON.stringify(value)})`,
      source,
    );
  }
  return ms;
}

/** `-1` (the batch-delay "off") or milliseconds. */
export function toBatchDelay(value: unknown, source: Source): number {
  return String(value).trim() === "-1" || value === -1 ? -1 : toMillis(value, source);
}

/** A date: ISO 8601, or a time from now (`+30s`, `+5m` ahead; `-1h` ago). */
export function toDate(value: unknown, source: Source, now = Date.now()): Date {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  const text = String(value).trim();
  if (text.startsWith("+") || text.startsWith("-")) {
    const ms = toMillis(text.slice(1), source);
    return new Date(text.startsWith("+") ? now + ms : now - ms);
  }
  const date = /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(
      `${source} must be an ISO 8601 date (2026-01-31T08:00:00Z) or a time from now like +30s, -1h ` +
        `(got ${JSON.stringify(value)})`,
      source,
    );
  }
  return date;
}

/** A list: repeated flags and comma-separated values, flattened; empty items dropped. */
export function toList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((v) => String(v).split(",")).map((s) => s.trim()).filter((s) => s !== "");
}

/** A boolean from an environment variable or config (`1`/`true`/`yes`, `0`/`false`/`no`). */
export function toBool(value: unknown, source: Source): boolean {
  if (typeof value === "boolean") return value;
  const text = String(value).trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(text)) return true;
  if (["0", "false", "no", "off", ""].includes(text)) return false;
  throw new UsageError(`${source} must be true or false (got ${JSON.stringify(value)})`, source);
}

/** Parse JSON given as an argument; UsageError naming `source` when it is not JSON. */
export function toJson(text: string, source: Source): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${source} is not valid JSON: ${why}`, source);
  }
}
