/**
 * Typed cron schedules: `cron.dailyAt(task, 8, 0).fill("1h").payload({...})`.
 * Every builder method returns a new builder (they never change the one they
 * are called on) and checks its argument at once, throwing
 * {@linkcode ValidationError}.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import type { TaskDefinition } from "../task/types.ts";
import type { JobKeyMode } from "../utils/types.ts";
import {
  idProblem,
  isPlainObject,
  jobKeyModeProblem,
  jobKeyProblem,
  maxProblem,
  priorityProblem,
  queueProblem,
  taskProblem,
} from "./_checks.ts";
import { toParseError } from "./crontab_parser.ts";
import { parseDuration } from "./duration.ts";
import { parseFields, PositionedProblem, tokenizeExpression } from "./fields.ts";
import { checkTimezone, compileSchedule } from "./schedule.ts";
import type { CronItem, CronJobOptions } from "./types.ts";

/** A task given to a schedule: a defined task, or a task identifier. */
export type CronTask<P> = TaskDefinition<P> | string;

interface State {
  readonly task: string;
  readonly definition: TaskDefinition<unknown> | undefined;
  readonly expression: string;
  readonly timezone: string | null;
  readonly id: string | undefined;
  readonly fill: number;
  readonly payload: Readonly<Record<string, unknown>> | null;
  readonly options: CronJobOptions;
}

function check(field: string, problem: string | undefined): void {
  if (problem) throw new ValidationError(field, `expected ${problem}`);
}

/**
 * One typed recurring job. Build it with the functions of {@linkcode cron}.
 *
 * @example
 * ```ts
 * import { cron } from "@spool/worker";
 * const nightly = cron.dailyAt("rebuild_index", 2, 30)
 *   .timezone("Europe/Paris")
 *   .fill("6h")
 *   .queue("maintenance")
 *   .payload({ full: true });
 * ```
 */
export class CronBuilder<P = Record<string, unknown>> {
  readonly #s: State;

  private constructor(state: State) {
    this.#s = state;
  }

  /**
   * A schedule for `task` on a five-field `expression` (UTC unless
   * `.timezone()` is called). The functions of {@linkcode cron} call this.
   */
  static of<P>(task: CronTask<P>, expression: string): CronBuilder<P> {
    const definition = typeof task === "string" ? undefined : task as TaskDefinition<unknown>;
    const identifier = typeof task === "string" ? task : task?.identifier;
    check("cron.task", taskProblem(identifier));
    if (typeof expression !== "string") {
      throw new ValidationError("cron.expression", 'must be a string like "*/5 * * * *"');
    }
    try {
      parseFields(tokenizeExpression(expression));
    } catch (e) {
      if (e instanceof PositionedProblem) throw toParseError("cron.expression", 1, e);
      throw e;
    }
    return new CronBuilder<P>({
      task: identifier as string,
      definition,
      expression: expression.trim().split(/\s+/).join(" "),
      timezone: null,
      id: undefined,
      fill: 0,
      payload: null,
      options: {},
    });
  }

  #with(patch: Partial<State>): CronBuilder<P> {
    return new CronBuilder<P>({ ...this.#s, ...patch });
  }

  /** The task identifier. */
  get task(): string {
    return this.#s.task;
  }

  /** The identifier this item is known by (`id`, else the task identifier). */
  get identifier(): string {
    return this.#s.id ?? this.#s.task;
  }

  /**
   * Fill in runs missed during downtime, up to this far back: `"30m"`, `"1h"`,
   * `"1d 2h"`, `"1w"`, or milliseconds. Default: no backfill.
   */
  fill(duration: string | number): CronBuilder<P> {
    return this.#with({ fill: parseDuration(duration, "cron.fill") });
  }

  /** Max attempts of each job (1–32767). */
  max(attempts: number): CronBuilder<P> {
    check("cron.max", maxProblem(attempts));
    return this.#with({ options: { ...this.#s.options, maxAttempts: attempts } });
  }

  /** Named queue of each job. */
  queue(name: string): CronBuilder<P> {
    check("cron.queue", queueProblem(name));
    return this.#with({ options: { ...this.#s.options, queueName: name } });
  }

  /** Priority of each job (lower runs first). */
  priority(priority: number): CronBuilder<P> {
    check("cron.priority", priorityProblem(priority));
    return this.#with({ options: { ...this.#s.options, priority } });
  }

  /** Job key of each job; the key mode defaults to "replace". */
  jobKey(key: string): CronBuilder<P> {
    check("cron.jobKey", jobKeyProblem(key));
    return this.#with({ options: { ...this.#s.options, jobKey: key } });
  }

  /** What a new job does when its key matches an existing job. */
  jobKeyMode(mode: JobKeyMode): CronBuilder<P> {
    check("cron.jobKeyMode", jobKeyModeProblem(mode));
    return this.#with({ options: { ...this.#s.options, jobKeyMode: mode } });
  }

  /** A unique identifier, needed when one task has several schedules. */
  id(id: string): CronBuilder<P> {
    check("cron.id", idProblem(id));
    return this.#with({ id });
  }

  /** The payload of each job (checked against the task's schema now). */
  payload(payload: P): CronBuilder<P> {
    if (!isPlainObject(payload)) {
      throw new ValidationError(
        "cron.payload",
        "expected a plain object (cron merges `_cron: { ts, backfilled }` into it)",
      );
    }
    const schema = this.#s.definition?.payload;
    if (schema) {
      const result = schema.safeParse(payload);
      if (!result.success) {
        const issues = result.error.issues
          .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
          .join("; ");
        throw new ValidationError(
          "cron.payload",
          `does not match the payload schema of task ${JSON.stringify(this.#s.task)}: ${issues}`,
          { code: "INVALID_PAYLOAD" },
        );
      }
    }
    let copy: Record<string, unknown>;
    try {
      copy = JSON.parse(JSON.stringify(payload));
    } catch (e) {
      throw new ValidationError("cron.payload", "must be JSON-serialisable", { cause: e });
    }
    return this.#with({ payload: copy });
  }

  /**
   * Match the schedule in an IANA time zone instead of UTC, e.g.
   * `"Europe/Paris"`. See `src/cron/schedule.ts` for what happens at DST
   * changes.
   */
  timezone(zone: string): CronBuilder<P> {
    return this.#with({ timezone: checkTimezone(zone, "cron.timezone") });
  }

  /** The resolved item the scheduler runs. */
  toItem(source = "cron"): CronItem {
    const s = this.#s;
    const fields = parseFields(tokenizeExpression(s.expression));
    const options = s.options.jobKey !== undefined && s.options.jobKeyMode === undefined
      ? { ...s.options, jobKeyMode: "replace" as const }
      : s.options;
    return {
      identifier: s.id ?? s.task,
      task: s.task,
      schedule: compileSchedule(s.expression, fields, s.timezone),
      fill: s.fill,
      payload: s.payload,
      options,
      source,
    };
  }
}

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** A day of the week: 0–6 (0 = Sunday; 7 also means Sunday) or an English name ("mon", "Monday"). */
export type Weekday = number | string;

function intIn(field: string, value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(
      field,
      `expected ${what} from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

function weekdayNumber(value: Weekday): number {
  if (typeof value === "string") {
    const lower = value.toLowerCase();
    const i = WEEKDAYS.findIndex((d) => lower.length >= 3 && d.startsWith(lower));
    if (i >= 0) return i;
    throw new ValidationError(
      "cron.weekday",
      `expected 0-6 (0 = Sunday) or a day name such as "monday" or "mon", got ${
        JSON.stringify(value)
      }`,
    );
  }
  return intIn("cron.weekday", value, 0, 7, "a weekday (0 = Sunday, 7 = Sunday)") % 7;
}

/**
 * Typed recurring schedules. Each returns a {@linkcode CronBuilder}; pass
 * them to the worker's `cron` option.
 *
 * @example
 * ```ts
 * import { cron } from "@spool/worker";
 * const items = [
 *   cron.everyMinute("heartbeat"),
 *   cron.everyNMinutes("poll_feeds", 5).fill("30m"),
 *   cron.hourlyAt("rollup", 15).queue("stats"),
 *   cron.dailyAt("send_digest", 8, 0).timezone("Europe/Paris").payload({ kind: "daily" }),
 *   cron.weeklyOn("weekly_report", "monday", 9, 30).id("weekly_report_mon"),
 *   cron.expression("cleanup", "0 3 * * 1-5").max(3).priority(10),
 * ];
 * ```
 */
export const cron: {
  /** Every minute. */
  everyMinute<P>(task: CronTask<P>): CronBuilder<P>;
  /** Every `n` minutes (1–60), at minutes divisible by `n` (`*\/n`; the hour boundary resets it). */
  everyNMinutes<P>(task: CronTask<P>, n: number): CronBuilder<P>;
  /** Every hour at `minute` (0–59). */
  hourlyAt<P>(task: CronTask<P>, minute: number): CronBuilder<P>;
  /** Every day at `hour`:`minute`. */
  dailyAt<P>(task: CronTask<P>, hour: number, minute: number): CronBuilder<P>;
  /** Every week on `weekday` at `hour`:`minute`. */
  weeklyOn<P>(task: CronTask<P>, weekday: Weekday, hour: number, minute: number): CronBuilder<P>;
  /** Any five-field expression in graphile-worker's syntax (plus `a-b/n`). */
  expression<P>(task: CronTask<P>, expression: string): CronBuilder<P>;
} = {
  everyMinute: (task) => CronBuilder.of(task, "* * * * *"),
  everyNMinutes: (task, n) =>
    CronBuilder.of(task, `*/${intIn("cron.n", n, 1, 60, "a number of minutes")} * * * *`),
  hourlyAt: (task, minute) =>
    CronBuilder.of(task, `${intIn("cron.minute", minute, 0, 59, "a minute")} * * * *`),
  dailyAt: (task, hour, minute) =>
    CronBuilder.of(
      task,
      `${intIn("cron.minute", minute, 0, 59, "a minute")} ${
        intIn("cron.hour", hour, 0, 23, "an hour")
      } * * *`,
    ),
  weeklyOn: (task, weekday, hour, minute) =>
    CronBuilder.of(
      task,
      `${intIn("cron.minute", minute, 0, 59, "a minute")} ${
        intIn("cron.hour", hour, 0, 23, "an hour")
      } * * ${weekdayNumber(weekday)}`,
    ),
  expression: (task, expression) => CronBuilder.of(task, expression),
};
