/**
 * The one implementation of {@linkcode JobAdder}, over any `Queryable`: the
 * WorkerUtils pool, a caller's transaction, or a task context.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { errorSqlState } from "../driver/_sqlstate.ts";
import { DatabaseError, SpoolError, ValidationError } from "../errors.ts";
import { jobAdd, jobsAdd, jobsAddCount } from "../sql/jobs_add.ts";
import { jobFromRow } from "../sql/job_row.ts";
import type { BatchTaskDefinition, TaskDefinition, TaskJobDefaults } from "../task/types.ts";
import { checkBatchItemsForAdd, checkBatchTask } from "./_batch_items.ts";
import {
  checkTask,
  type JobInput,
  normalizeJob,
  normalizeJobBatch,
  rejectUnknownKeys,
} from "./job_options.ts";
import type { Job, JobAdder, JobOptions, RawJobSpec } from "./types.ts";
import type { ScheduleHooks } from "../hooks/schedule_hooks.ts";

const RAW_KEYS: ReadonlySet<string> = new Set(["identifier", "payload", "options"]);
const TYPED_KEYS: ReadonlySet<string> = new Set(["payload", "options"]);

/**
 * Run a database call, turning driver errors into {@linkcode DatabaseError}s
 * that say what failed (and hint at migrating when the schema is missing).
 */
export async function dbCall<T>(what: string, schema: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof SpoolError) throw error;
    const sqlState = errorSqlState(error);
    const message = error instanceof Error ? error.message : String(error);
    const hint = sqlState === "42P01" || sqlState === "42883" || sqlState === "3F000"
      ? ` (is the schema "${schema}" migrated? call utils.migrate() first)`
      : "";
    throw new DatabaseError(`${what} failed: ${message}${hint}`, sqlState, { cause: error });
  }
}

/** Undefined or null payloads of raw jobs mean `{}` (as in graphile-worker). */
function rawPayload(payload: unknown): unknown {
  return payload == null ? {} : payload;
}

function checkArray(value: unknown, field: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new ValidationError(field, "must be an array");
  return value;
}

function checkItem(
  item: unknown,
  field: string,
  keys: ReadonlySet<string>,
): Record<string, unknown> {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new ValidationError(field, `must be an object with ${[...keys].join(", ")}`);
  }
  rejectUnknownKeys(item as Record<string, unknown>, keys, field);
  return item as Record<string, unknown>;
}

/** Job options over the task's own defaults (`defineTask({ maxAttempts, queueName, priority })`). */
function withTaskDefaults(
  task: { readonly jobDefaults?: TaskJobDefaults },
  options: unknown,
): JobOptions | undefined {
  const d = task.jobDefaults;
  if (d === undefined) return options as JobOptions | undefined;
  // A bad `options` value is reported by normalizeJob as before.
  if (options != null && (typeof options !== "object" || Array.isArray(options))) {
    return options as JobOptions;
  }
  const o = (options ?? {}) as JobOptions;
  return {
    ...o,
    maxAttempts: o.maxAttempts ?? d.maxAttempts,
    queueName: o.queueName ?? d.queueName,
    priority: o.priority ?? d.priority,
  };
}

const NO_ROW = "add_job returned no job: a job with the same key was locked concurrently; " +
  "retry the add";

/**
 * Create a {@linkcode JobAdder} that runs its statements through `queryable()`.
 *
 * @example
 * ```ts ignore
 * const adder = createJobAdder(() => driver, "graphile_worker");
 * await adder.addRawJob("hello", { name: "Ada" });
 * ```
 */
export function createJobAdder(
  queryable: () => Queryable | Promise<Queryable>,
  schema: string,
  hooks?: ScheduleHooks,
): JobAdder {
  async function insertOne(input: JobInput, what: string): Promise<Job> {
    const job = normalizeJob(input);
    const q = await queryable();
    const row = await dbCall(what, schema, () => jobAdd(q, schema, job));
    if (!row) throw new DatabaseError(NO_ROW);
    return jobFromRow(row);
  }

  async function insertMany(inputs: JobInput[], what: string): Promise<Job[]> {
    const jobs = normalizeJobBatch(inputs);
    if (jobs.length === 0) return [];
    const q = await queryable();
    const rows = await dbCall(what, schema, () => jobsAdd(q, schema, jobs));
    const missing = rows.findIndex((r) => r === null);
    if (missing !== -1) throw new DatabaseError(`${NO_ROW} (jobs[${missing}])`);
    return rows.map((r) => jobFromRow(r!));
  }

  /** The fast bulk path: a count comes back, no rows (hooks need the jobs: full path then). */
  async function insertCount(inputs: JobInput[], what: string): Promise<number> {
    if (hooks) return (await many(inputs, what)).length;
    const jobs = normalizeJobBatch(inputs);
    if (jobs.length === 0) return 0;
    const q = await queryable();
    const n = await dbCall(what, schema, () => jobsAddCount(q, schema, jobs));
    if (n !== jobs.length) throw new DatabaseError(`${NO_ROW} (${jobs.length - n} of the jobs)`);
    return n;
  }

  const typedInputs = <P>(
    task: TaskDefinition<P>,
    jobs: ReadonlyArray<{ payload: P; options?: JobOptions }>,
  ): JobInput[] => {
    const t = checkTask(task);
    return checkArray(jobs, "jobs").map((item, i) => {
      const it = checkItem(item, `jobs[${i}]`, TYPED_KEYS);
      const options = withTaskDefaults(t, it.options);
      return { identifier: t.identifier, payload: it.payload, options, task: t };
    });
  };
  const rawInputs = (jobs: ReadonlyArray<RawJobSpec>): JobInput[] =>
    checkArray(jobs, "jobs").map((item, i) => {
      const it = checkItem(item, `jobs[${i}]`, RAW_KEYS);
      return { identifier: it.identifier, payload: rawPayload(it.payload), options: it.options };
    });

  const one = (input: JobInput, what: string): Promise<Job> =>
    hooks ? hooks.add(input, what, (i) => insertOne(i, what)) : insertOne(input, what);
  const many = (inputs: JobInput[], what: string): Promise<Job[]> =>
    hooks ? hooks.addMany(inputs, what, (i) => insertMany(i, what)) : insertMany(inputs, what);

  return {
    addJob<P>(task: TaskDefinition<P>, payload: P, options?: JobOptions): Promise<Job> {
      return Promise.resolve().then(() => {
        const t = checkTask(task);
        const o = withTaskDefaults(t, options);
        return one({ identifier: t.identifier, payload, options: o, task: t }, "addJob");
      });
    },
    addRawJob(identifier: string, payload?: unknown, options?: JobOptions): Promise<Job> {
      return Promise.resolve().then(() =>
        one({ identifier, payload: rawPayload(payload), options }, "addRawJob")
      );
    },
    addJobs<P>(
      task: TaskDefinition<P>,
      jobs: ReadonlyArray<{ payload: P; options?: JobOptions }>,
    ): Promise<Job[]> {
      return Promise.resolve().then(() => many(typedInputs(task, jobs), "addJobs"));
    },
    addRawJobs(jobs: ReadonlyArray<RawJobSpec>): Promise<Job[]> {
      return Promise.resolve().then(() => many(rawInputs(jobs), "addRawJobs"));
    },
    addJobsFast<P>(
      task: TaskDefinition<P>,
      jobs: ReadonlyArray<{ payload: P; options?: JobOptions }>,
    ): Promise<number> {
      return Promise.resolve().then(() => insertCount(typedInputs(task, jobs), "addJobsFast"));
    },
    addRawJobsFast(jobs: ReadonlyArray<RawJobSpec>): Promise<number> {
      return Promise.resolve().then(() => insertCount(rawInputs(jobs), "addRawJobsFast"));
    },
    addBatchJob<I>(
      task: BatchTaskDefinition<I>,
      items: readonly I[],
      options?: JobOptions,
    ): Promise<Job> {
      return Promise.resolve().then(() => {
        const t = checkBatchTask(task);
        const payload = checkBatchItemsForAdd(t, items);
        const o = withTaskDefaults(t, options);
        return one({ identifier: t.identifier, payload, options: o }, "addBatchJob");
      });
    },
  };
}
