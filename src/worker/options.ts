/**
 * Checks `createWorker` options at the boundary (zod) and fills in defaults.
 * A bad value throws one {@linkcode ValidationError} naming the field; an
 * unknown key throws one naming the key(s).
 *
 * @module
 */
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { consoleLogger, type Logger } from "../logger.ts";
import { systemClock } from "../runtime/clock.ts";
import type { Clock, Runtime } from "../runtime/types.ts";
import type { Driver } from "../driver/types.ts";
import type { ProvidedExtension } from "../task/extension.ts";
import { validateSchemaName } from "../sql/ident.ts";
import {
  type ResolvedThroughputOptions,
  resolveThroughputOptions,
  throughputOptionShapes,
} from "./throughput_options.ts";
import type { AnyTaskDefinition, BackoffFunction, ForbiddenFlags, WorkerOptions } from "./types.ts";
import { type ResolvedRecoveryOptions, resolveRecoveryOptions } from "../recovery/options.ts";
import { resolveCronItems } from "../cron/resolve.ts";
import { checkTimeout } from "../task/_task_options.ts";
import type { CronItem } from "../cron/types.ts";

/** Options after checking, with every default applied. */
export interface ResolvedWorkerOptions {
  tasks: readonly AnyTaskDefinition[];
  database: string | undefined;
  driver: Driver | undefined;
  schema: string;
  concurrency: number;
  pollInterval: number;
  useLocalTime: boolean;
  forbiddenFlags: ForbiddenFlags | undefined;
  logger: Logger;
  noHandleSignals: boolean;
  gracePeriod: number;
  interruptedJobRetryDelay: number;
  /** Default job timeout in ms; null: none. */
  jobTimeout: number | null;
  maxPoolSize: number;
  extensions: readonly ProvidedExtension[];
  backoff: BackoffFunction | undefined;
  /** Cron items from `crontab` and `cron` (empty when neither is given). */
  cronItems: CronItem[];
  clock: Clock;
  runtime: Runtime | undefined;
  /** Local queue and batch delays (see `throughput_options.ts`). */
  throughput: ResolvedThroughputOptions;
  /** Heartbeats and the stale-worker sweeper (see `src/recovery/options.ts`). */
  recovery: ResolvedRecoveryOptions;
}

const isFunction = (v: unknown): boolean => typeof v === "function";
const hasMethods = (v: unknown, names: readonly string[]): boolean =>
  typeof v === "object" && v !== null &&
  names.every((n) => typeof (v as Record<string, unknown>)[n] === "function");

const taskSchema = z.custom<AnyTaskDefinition>(
  (v) =>
    typeof v === "object" && v !== null &&
    typeof (v as { identifier?: unknown }).identifier === "string" &&
    typeof (v as { run?: unknown }).run === "function" &&
    hasMethods((v as { payload?: unknown }).payload, ["safeParse"]),
  { message: "must be a task made with defineTask() or defineBatchTask()" },
);

const millis = (what: string) =>
  z.number({ message: `must be a number of milliseconds (${what})` })
    .int({ message: `must be a whole number of milliseconds (${what})` })
    .min(0, { message: `must be 0 or more milliseconds (${what})` })
    .max(2_147_483_647, { message: `must be at most 2147483647 milliseconds (${what})` });

const optionsSchema = z.strictObject({
  tasks: z.array(taskSchema, { message: "must be an array of task definitions" }),
  database: z.string({ message: "must be a PostgreSQL connection URL string" })
    .min(1, { message: "must be a non-empty PostgreSQL connection URL" }).optional(),
  driver: z.custom<Driver>(
    (v) => hasMethods(v, ["query", "transaction", "listen", "close"]),
    { message: "must be a Spool driver (e.g. postgresJs(...))" },
  ).optional(),
  schema: z.string().optional(),
  concurrency: z.number({ message: "must be an integer of 1 or more" })
    .int({ message: "must be an integer of 1 or more" })
    .min(1, { message: "must be an integer of 1 or more" })
    .max(10_000, { message: "must be at most 10000" }).optional(),
  pollInterval: millis("time between polls").min(1, {
    message: "must be at least 1 millisecond",
  }).optional(),
  useLocalTime: z.boolean({ message: "must be true or false" }).optional(),
  forbiddenFlags: z.union([
    z.array(z.string({ message: "must contain only strings" })),
    z.custom<() => unknown>(isFunction),
  ], { message: "must be an array of flag names or a function returning one" }).optional(),
  logger: z.custom<Logger>(
    (v) => hasMethods(v, ["debug", "info", "warn", "error"]),
    { message: "must be a Logger with debug, info, warn and error methods" },
  ).optional(),
  noHandleSignals: z.boolean({ message: "must be true or false" }).optional(),
  gracePeriod: millis("grace period on shutdown").optional(),
  interruptedJobRetryDelay: millis("delay before an interrupted job may run again").optional(),
  // Checked in detail by checkTimeout (a duration, milliseconds or "none").
  jobTimeout: z.union([z.string(), z.number()], {
    message: 'must be "none", a duration such as "30s", or milliseconds',
  }).optional(),
  maxPoolSize: z.number({ message: "must be an integer of 1 or more" })
    .int({ message: "must be an integer of 1 or more" })
    .min(1, { message: "must be an integer of 1 or more" }).optional(),
  extensions: z.array(
    z.custom<ProvidedExtension>(
      (v) => typeof v === "object" && v !== null && "key" in v && "value" in v,
      { message: "must be a value from Key.provide(value)" },
    ),
    { message: "must be an array of Key.provide(value) results" },
  ).optional(),
  backoff: z.custom<BackoffFunction>(isFunction, {
    message: "must be a function (attempts) => seconds",
  }).optional(),
  crontab: z.string({ message: "must be crontab text" }).optional(),
  cron: z.array(z.unknown(), {
    message: "must be an array of cron.* schedules or crontab lines",
  }).optional(),
  clock: z.custom<Clock>((v) => hasMethods(v, ["now", "setTimeout", "sleep"]), {
    message: "must be a Clock",
  }).optional(),
  ...throughputOptionShapes,
  // Checked in detail by resolveRecoveryOptions (field names like "recovery.staleThreshold").
  recovery: z.custom<object>((v) => typeof v === "object" && v !== null && !Array.isArray(v), {
    message: "must be an object like { enabled, staleThreshold, … }",
  }).optional(),
  // Checked in detail by createHookRegistry (fields like "plugins[1].name").
  plugins: z.array(z.unknown(), { message: "must be an array of plugins" }).optional(),
  hookTimeout: millis("time an interceptor may take").min(1, { message: "must be 1 or more" })
    .optional(),
  runtime: z.custom<Runtime>((v) => hasMethods(v, ["onSignal"]), {
    message: "must be a Runtime",
  }).optional(),
});

function fieldOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "options";
}

/**
 * Check `input` and apply defaults.
 *
 * @throws {ValidationError} naming the first bad field, or listing unknown keys.
 */
export function resolveWorkerOptions(input: WorkerOptions): ResolvedWorkerOptions {
  if (typeof input !== "object" || input === null) {
    throw new ValidationError("options", "must be an object with at least `tasks`");
  }
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue.code === "unrecognized_keys") {
      const keys = issue.keys.map((k) => `"${k}"`).join(", ");
      throw new ValidationError(
        "options",
        `unknown option${
          issue.keys.length > 1 ? "s" : ""
        } ${keys}; check the spelling against WorkerOptions`,
      );
    }
    const field = fieldOf(issue.path);
    const message = field === "tasks" && (input as { tasks?: unknown }).tasks === undefined
      ? "is required: pass the task definitions this worker runs"
      : issue.message;
    throw new ValidationError(field, message);
  }
  const o = parsed.data;
  const schema = validateSchemaName(o.schema ?? "graphile_worker", "schema");
  return {
    tasks: o.tasks,
    database: o.database,
    driver: o.driver,
    schema,
    concurrency: o.concurrency ?? 1,
    pollInterval: o.pollInterval ?? 2000,
    useLocalTime: o.useLocalTime ?? false,
    forbiddenFlags: o.forbiddenFlags as ForbiddenFlags | undefined,
    logger: o.logger ?? consoleLogger({ scope: "spool" }),
    noHandleSignals: o.noHandleSignals ?? false,
    gracePeriod: o.gracePeriod ?? 5000,
    interruptedJobRetryDelay: o.interruptedJobRetryDelay ?? 30_000,
    jobTimeout: o.jobTimeout === undefined ? null : checkTimeout(o.jobTimeout, "jobTimeout"),
    maxPoolSize: o.maxPoolSize ?? 10,
    extensions: o.extensions ?? [],
    backoff: o.backoff,
    // Cron items may name tasks other workers run, so identifiers are not checked against `tasks`.
    cronItems: resolveCronItems({
      crontab: o.crontab,
      cron: o.cron as WorkerOptions["cron"],
    }),
    clock: o.clock ?? systemClock,
    runtime: o.runtime,
    throughput: resolveThroughputOptions(o, o.concurrency ?? 1),
    recovery: resolveRecoveryOptions(o.recovery),
  };
}
