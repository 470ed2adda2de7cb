/**
 * Crontab text in graphile-worker's format:
 *
 * ```text
 * # ┌ minute ┌ hour ┌ day of month ┌ month ┌ day of week (0 = Sunday)
 * # │        │      │              │       │   task         ?options         {payload}
 *   0        8      *              *       1-5 send_report  ?fill=1h&max=3    {"to":"ops"}
 * ```
 *
 * Options: `id`, `fill`, `max`, `queue`, `jobKey` (or `job_key`),
 * `jobKeyMode` (or `job_key_mode`), `priority`, and Spool's `tz`; values are
 * URL-decoded. The payload is a JSON5 object. Lines starting with `#` and
 * blank lines are ignored. Times are UTC unless the line has `?tz=` (an IANA
 * zone such as `Europe/Paris`, with the DST rules of `schedule.ts`). Every
 * mistake, including an unknown option, throws a {@linkcode CrontabParseError}
 * naming the line and column.
 *
 * `tz` is refused where the text could mean something else: a `+` (it decodes
 * to a space, as graphile-worker's querystring parsing also reads it) and
 * zone names without an area such as `EST` or `CET` (legacy aliases: `EST` is
 * UTC−05:00 all year). graphile-worker 0.18 itself rejects a line with `?tz=`
 * ("unsupported key"), so such a line is never silently run in UTC there.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import {
  idProblem,
  isPlainObject,
  jobKeyModeProblem,
  jobKeyProblem,
  maxProblem,
  priorityProblem,
  queueProblem,
  TASK_IDENTIFIER,
} from "./_checks.ts";
import { parseJson5 } from "./_json5.ts";
import { parseTimePhrase } from "./duration.ts";
import { parseFields, PositionedProblem, type Token } from "./fields.ts";
import { checkTimezone, compileSchedule } from "./schedule.ts";
import type { CronItem, CronJobOptions } from "./types.ts";
import type { JobKeyMode } from "../utils/types.ts";

/**
 * A crontab (or cron expression) could not be parsed. `line` and `column`
 * are 1-based and point at the problem in the text as given.
 *
 * @example
 * ```ts
 * import { CrontabParseError, parseCrontab } from "@spool/worker";
 * try {
 *   parseCrontab("61 * * * * task");
 * } catch (e) {
 *   if (e instanceof CrontabParseError) console.log(e.line, e.column, e.expected);
 * }
 * ```
 */
export class CrontabParseError extends ValidationError {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column number. */
  readonly column: number;
  /** What the parser expected at that place. */
  readonly expected: string;
  /** What it found instead. */
  readonly found: string;
  /** Build the error; `field` names the option the text came from ("crontab", "cron[2]"). */
  constructor(field: string, line: number, column: number, expected: string, found: string) {
    super(field, `line ${line}, column ${column}: expected ${expected}, found ${found}`);
    this.name = "CrontabParseError";
    this.line = line;
    this.column = column;
    this.expected = expected;
    this.found = found;
  }
}

/** Turn a positioned problem into a public error. */
export function toParseError(field: string, line: number, p: PositionedProblem): CrontabParseError {
  return new CrontabParseError(field, line, p.offset + 1, p.expected, p.found);
}

const OPTION_NAMES: Readonly<Record<string, string>> = {
  id: "id",
  fill: "fill",
  max: "max",
  queue: "queue",
  priority: "priority",
  jobKey: "jobKey",
  job_key: "jobKey",
  jobKeyMode: "jobKeyMode",
  job_key_mode: "jobKeyMode",
  tz: "tz",
};

/** Zone names with an area (`Europe/Paris`, `America/Argentina/Salta`, `Etc/GMT-2`), or UTC. */
const AREA_ZONE = /^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)+$/;

/** Why `raw` (undecoded) / `zone` (decoded) is not accepted as `?tz=`, or undefined. */
function tzProblem(raw: string, zone: string): string | undefined {
  if (raw.includes("+")) {
    return "a zone without a raw + (it reads as a space in crontab options; write %2B, and " +
      "mind that Etc/GMT+1 means UTC-01:00)";
  }
  if (zone === "UTC" || zone === "Etc/UTC") return undefined;
  if (!AREA_ZONE.test(zone)) {
    return "an IANA zone name with an area such as Europe/Paris or America/New_York, or UTC " +
      "(abbreviations like EST or CET are legacy aliases with other DST rules)";
  }
  try {
    checkTimezone(zone, "tz");
  } catch {
    return "a time zone this runtime knows, such as Europe/Paris or America/New_York";
  }
  return undefined;
}

function decode(text: string): string {
  const spaced = text.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

interface ParsedOptions {
  id?: string;
  fill: number;
  /** IANA zone from `?tz=`, `null` for UTC. */
  timezone: string | null;
  options: CronJobOptions;
}

function parseOptions(text: string, offset: number): ParsedOptions {
  const seen = new Map<string, string>();
  let fill = 0;
  let id: string | undefined;
  let timezone: string | null = null;
  const options: {
    -readonly [K in keyof CronJobOptions]: CronJobOptions[K];
  } = {};
  let at = offset;
  for (const piece of text.split("&")) {
    const pieceAt = at;
    at += piece.length + 1;
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const rawKey = eq < 0 ? piece : piece.slice(0, eq);
    const key = decode(rawKey);
    const value = eq < 0 ? "" : decode(piece.slice(eq + 1));
    const valueAt = eq < 0 ? pieceAt + piece.length : pieceAt + eq + 1;
    const name = Object.hasOwn(OPTION_NAMES, key) ? OPTION_NAMES[key] : undefined;
    if (name === undefined) {
      throw new PositionedProblem(
        pieceAt,
        "an option: id, fill, max, queue, jobKey (job_key), jobKeyMode (job_key_mode), " +
          "priority or tz",
        JSON.stringify(key),
      );
    }
    if (seen.has(name)) {
      throw new PositionedProblem(
        pieceAt,
        `each option at most once (${name} was already given as ${seen.get(name)})`,
        JSON.stringify(key),
      );
    }
    seen.set(name, key);
    const bad = (expected: string): never => {
      throw new PositionedProblem(valueAt, `${key}=${expected}`, JSON.stringify(value));
    };
    const int = (): number => /^-?[0-9]+$/.test(value) ? Number(value) : NaN;
    let problem: string | undefined;
    switch (name) {
      case "id":
        problem = idProblem(value);
        id = value;
        break;
      case "fill": {
        const ms = parseTimePhrase(value);
        if (ms === undefined) bad("a duration such as 30m, 1h or 1d2h (units s, m, h, d, w)");
        fill = ms!;
        break;
      }
      case "max":
        options.maxAttempts = int();
        problem = maxProblem(options.maxAttempts);
        break;
      case "queue":
        problem = queueProblem(value);
        options.queueName = value;
        break;
      case "priority":
        options.priority = int();
        problem = priorityProblem(options.priority);
        break;
      case "jobKey":
        problem = jobKeyProblem(value);
        options.jobKey = value;
        break;
      case "jobKeyMode":
        problem = jobKeyModeProblem(value);
        options.jobKeyMode = value as JobKeyMode;
        break;
      case "tz": {
        const raw = eq < 0 ? "" : piece.slice(eq + 1);
        const tzBad = tzProblem(raw, value);
        if (tzBad) bad(tzBad);
        timezone = checkTimezone(value, "tz");
        break;
      }
    }
    if (problem) bad(problem);
  }
  if (options.jobKey !== undefined && options.jobKeyMode === undefined) {
    options.jobKeyMode = "replace";
  }
  return { id, fill, timezone, options };
}

function parseLine(raw: string, lineNumber: number, field: string): CronItem {
  const tokens: Token[] = [];
  const re = /\S+/g;
  for (let m = re.exec(raw); m && tokens.length < 6; m = re.exec(raw)) {
    tokens.push({ text: m[0], offset: m.index });
  }
  const end = raw.trimEnd().length;
  try {
    if (tokens.length < 6) {
      throw new PositionedProblem(
        end,
        tokens.length < 5
          ? "5 time fields (minute hour day-of-month month day-of-week) then a task identifier"
          : "a task identifier after the 5 time fields",
        "the end of the line",
      );
    }
    const fields = parseFields(tokens);
    const text = raw.slice(0, end);
    let pos = tokens[5].offset;
    const taskMatch = /^[^\s?{]+/.exec(text.slice(pos));
    const task = taskMatch?.[0] ?? "";
    if (!TASK_IDENTIFIER.test(task)) {
      throw new PositionedProblem(
        pos,
        "a task identifier (a letter or _, then letters, digits, _, -, : or /)",
        JSON.stringify(task || text[pos]),
      );
    }
    pos += task.length;
    const skipSpace = () => {
      while (pos < end && /\s/.test(text[pos])) pos++;
    };
    let parsed: ParsedOptions = { fill: 0, timezone: null, options: {} };
    let payload: Record<string, unknown> | null = null;
    if (pos < end) {
      if (!/\s/.test(text[pos])) {
        throw new PositionedProblem(
          pos,
          "a space before ?options or the payload",
          JSON.stringify(text[pos]),
        );
      }
      skipSpace();
      if (text[pos] === "?") {
        const optEnd = /\s|$/.exec(text.slice(pos))!.index + pos;
        const optionsText = text.slice(pos + 1, optEnd);
        if (optionsText === "") {
          throw new PositionedProblem(pos + 1, "options after ?, like ?fill=1h&max=3", "nothing");
        }
        parsed = parseOptions(optionsText, pos + 1);
        pos = optEnd;
        skipSpace();
      }
      if (pos < end) {
        if (text[pos] !== "{") {
          throw new PositionedProblem(
            pos,
            "?options or a JSON object payload starting with {",
            JSON.stringify(text.slice(pos, pos + 12)),
          );
        }
        const value = parseJson5(text.slice(pos), pos);
        if (!isPlainObject(value)) {
          throw new PositionedProblem(
            pos,
            "a JSON object payload",
            JSON.stringify(text.slice(pos)),
          );
        }
        payload = value;
      }
    }
    return {
      identifier: parsed.id ?? task,
      task,
      schedule: compileSchedule(
        tokens.slice(0, 5).map((t) => t.text).join(" "),
        fields,
        parsed.timezone,
      ),
      fill: parsed.fill,
      payload,
      options: parsed.options,
      source: `${field} line ${lineNumber}`,
    };
  } catch (e) {
    if (e instanceof PositionedProblem) throw toParseError(field, lineNumber, e);
    throw e;
  }
}

/**
 * Parse crontab text into cron items. Identifiers (the task, or `?id=`) must
 * be unique.
 *
 * @example
 * ```ts
 * import { parseCrontab } from "@spool/worker";
 * const items = parseCrontab(`
 * # every weekday at 08:00 UTC, fill in runs missed during the last hour
 * 0 8 * * 1-5 send_report ?fill=1h&priority=-5 {"to": "ops@example.com"}
 * # every day at 09:00 in Paris, summer and winter
 * 0 9 * * * send_digest ?tz=Europe/Paris
 * `);
 * console.log(items[0].identifier); // "send_report"
 * console.log(items[1].schedule.timezone); // "Europe/Paris"
 * ```
 */
export function parseCrontab(text: string, field = "crontab"): CronItem[] {
  if (typeof text !== "string") throw new ValidationError(field, "must be crontab text (a string)");
  const items: CronItem[] = [];
  const lineOf = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const item = parseLine(lines[i], i + 1, field);
    const earlier = lineOf.get(item.identifier);
    if (earlier !== undefined) {
      const idAt = lines[i].search(/[?&]id=/);
      throw new CrontabParseError(
        field,
        i + 1,
        (idAt >= 0 ? idAt + 4 : /^\s*(?:\S+\s+){5}/.exec(lines[i])![0].length) + 1,
        `a unique identifier (line ${earlier} already uses ${JSON.stringify(item.identifier)}; ` +
          "add ?id=... to tell the lines apart)",
        JSON.stringify(item.identifier),
      );
    }
    lineOf.set(item.identifier, i + 1);
    items.push(item);
  }
  return items;
}
