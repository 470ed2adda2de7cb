/**
 * `beforeJobSchedule` on the two add paths, plus the cron scheduler's
 * observer events.
 *
 * Add paths (WorkerUtils, a task's `ctx.addJob…`): interceptors run before
 * the job is checked, so a rewritten payload or options are checked like
 * the caller's. A skipped single add throws {@linkcode JobSkippedError}; a
 * bulk add leaves skipped jobs out of its result. A refusal (`{ fail }`, a
 * throw, a timeout) throws {@linkcode JobRejectedError} and adds nothing.
 *
 * Cron: interceptors run for each due run before it is claimed. A skipped
 * or refused run (also one whose rewrite is not usable) is logged and not
 * claimed, so this scheduler adds nothing for it.
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import { JobRejectedError, JobSkippedError } from "./errors.ts";
import type { HookRegistry } from "./registry.ts";
import type { HookJobOptions } from "./types.ts";

/** One job as an add path holds it before checking (the adder's `JobInput`). */
export interface AddInputLike {
  identifier: unknown;
  payload: unknown;
  options: unknown;
}

/** Cron job options (the cron item's `CronJobOptions` shape). */
export interface CronOptionsLike {
  readonly queueName?: string;
  readonly priority?: number;
  readonly maxAttempts?: number;
  readonly jobKey?: string;
  readonly jobKeyMode?: "replace" | "preserve_run_at" | "unsafe_dedupe";
}

/** One due cron run (the scheduler's `{ item, backfilled }`). */
export interface CronDueLike {
  item: {
    readonly identifier: string;
    readonly task: string;
    readonly payload: Readonly<Record<string, unknown>> | null;
    readonly options: CronOptionsLike;
  };
  backfilled: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A job an add path wrote (the fields of `Job` the `job:added` event reports). */
export interface AddedJobLike {
  id: string;
  taskIdentifier: string;
  payload: unknown;
}

/**
 * `beforeJobSchedule` and `job:added` for WorkerUtils' add paths: run the
 * interceptors, then the insert, then tell the `job:added` observers.
 */
export class ScheduleHooks {
  #registry: HookRegistry;
  #intercept: boolean;
  #added: boolean;

  constructor(registry: HookRegistry) {
    this.#registry = registry;
    this.#intercept = registry.has("beforeJobSchedule");
    this.#added = registry.has("job:added");
  }

  /** Hooks for the add paths, or undefined when neither `beforeJobSchedule` nor `job:added` is registered. */
  static of(registry: HookRegistry | undefined): ScheduleHooks | undefined {
    return registry?.has("beforeJobSchedule") || registry?.has("job:added")
      ? new ScheduleHooks(registry)
      : undefined;
  }

  /** One job: interceptors (a skip throws), `insert`, then `job:added`. */
  add<T extends AddInputLike, J extends AddedJobLike>(
    input: T,
    method: string,
    insert: (input: T) => Promise<J>,
  ): Promise<J> {
    return this.#around(method, async (call, timed) => {
      const out = this.#intercept ? await this.#apply(input, method, call) : { input };
      if ("skip" in out) throw new JobSkippedError(String(input.identifier), out.plugin);
      return [await timed(() => insert(out.input))];
    }).then((jobs) => jobs[0]);
  }

  /** Many jobs: interceptors (skipped jobs are left out), `insert`, then `job:added`. */
  addMany<T extends AddInputLike, J extends AddedJobLike>(
    inputs: readonly T[],
    method: string,
    insert: (inputs: T[]) => Promise<J[]>,
  ): Promise<J[]> {
    return this.#around(method, async (call, timed) => {
      const kept: T[] = [];
      for (const input of inputs) {
        const r = this.#intercept ? await this.#apply(input, method, call) : { input };
        if (!("skip" in r)) kept.push(r.input);
      }
      return await timed(() => insert(kept));
    });
  }

  async #around<J extends AddedJobLike>(
    method: string,
    body: (call: object, timed: <R>(fn: () => Promise<R>) => Promise<R>) => Promise<J[]>,
  ): Promise<J[]> {
    const call = {};
    let durationMs = 0;
    const registry = this.#registry;
    const timed = async <R>(fn: () => Promise<R>): Promise<R> => {
      const at = registry.now();
      try {
        return await fn();
      } finally {
        durationMs = Math.max(0, registry.now() - at);
      }
    };
    let jobs: J[];
    try {
      jobs = await body(call, timed);
    } catch (error) {
      if (this.#added) registry.emit("job:added", { method, call, jobs: [], durationMs, error });
      throw error;
    }
    if (this.#added) {
      const added = jobs.map((j) => ({
        id: j.id,
        identifier: j.taskIdentifier,
        payload: j.payload,
      }));
      registry.emit("job:added", { method, call, jobs: added, durationMs });
    }
    return jobs;
  }

  async #apply<T extends AddInputLike>(
    input: T,
    method: string,
    call: object,
  ): Promise<{ input: T } | { skip: true; plugin: string }> {
    const { identifier, options } = input;
    // Malformed input is left to the add path's checks, which name the bad field.
    if (typeof identifier !== "string" || (options !== undefined && !isObject(options))) {
      return { input };
    }
    const verdict = await this.#registry.beforeJobSchedule({
      source: "add",
      method,
      identifier,
      payload: input.payload,
      options: options as HookJobOptions | undefined,
      call,
    });
    if ("skip" in verdict) return verdict;
    if ("fail" in verdict) {
      throw new JobRejectedError(identifier, verdict.plugin, verdict.fail, {
        cause: verdict.cause,
      });
    }
    if (verdict.payload === input.payload && verdict.options === options) return { input };
    return { input: { ...input, payload: verdict.payload, options: verdict.options } };
  }
}

function checkCronOptions(o: HookJobOptions): string | undefined {
  const int = (v: unknown) => v === undefined || (typeof v === "number" && Number.isInteger(v));
  const str = (v: unknown) => v === undefined || (typeof v === "string" && v.length > 0);
  if (!str(o.queueName)) return "options.queueName must be a non-empty string";
  if (!str(o.jobKey)) return "options.jobKey must be a non-empty string";
  if (!int(o.priority)) return "options.priority must be an integer";
  if (!int(o.maxAttempts) || (o.maxAttempts !== undefined && o.maxAttempts < 1)) {
    return "options.maxAttempts must be an integer of 1 or more";
  }
  const modes = [undefined, "replace", "preserve_run_at", "unsafe_dedupe"];
  if (!modes.includes(o.jobKeyMode)) return "options.jobKeyMode is not a known key mode";
  return undefined;
}

/** Hooks of the cron scheduler: `cron:tick`, `beforeJobSchedule`, `cron:scheduled`. */
export class CronHooks {
  #registry: HookRegistry;
  #logger: Logger;
  #tick: boolean;
  #scheduled: boolean;
  #intercept: boolean;

  constructor(registry: HookRegistry, logger: Logger) {
    this.#registry = registry;
    this.#logger = logger;
    this.#tick = registry.has("cron:tick");
    this.#scheduled = registry.has("cron:scheduled");
    this.#intercept = registry.has("beforeJobSchedule");
  }

  /** Cron hooks, or undefined when none of them is registered. */
  static of(registry: HookRegistry | undefined, logger: Logger): CronHooks | undefined {
    if (!registry) return undefined;
    const any = registry.has("cron:tick") || registry.has("cron:scheduled") ||
      registry.has("beforeJobSchedule");
    return any ? new CronHooks(registry, logger) : undefined;
  }

  /** The scheduler handles minute `ts`. */
  tick(ts: number, due: readonly CronDueLike[]): void {
    if (!this.#tick) return;
    this.#registry.emit("cron:tick", { ts: new Date(ts), due: due.map((d) => d.item.identifier) });
  }

  /**
   * Run `beforeJobSchedule` on each due run; returns the runs to claim, with
   * rewritten payloads and options. `payloadOf` builds the stored payload.
   */
  async intercept<T extends CronDueLike>(
    ts: number,
    due: readonly T[],
    payloadOf: (d: T) => Record<string, unknown>,
  ): Promise<T[]> {
    if (!this.#intercept) return [...due];
    const out: T[] = [];
    for (const d of due) {
      const { item, backfilled } = d;
      const options: HookJobOptions = { ...item.options, runAt: new Date(ts) };
      const payload = payloadOf(d);
      const verdict = await this.#registry.beforeJobSchedule({
        source: "cron",
        identifier: item.task,
        payload,
        options,
        cron: { identifier: item.identifier, ts: new Date(ts), backfilled },
      });
      const meta = { cron: item.identifier, ts: new Date(ts).toISOString() };
      if ("skip" in verdict) {
        this.#logger.debug(`cron: plugin "${verdict.plugin}" skipped this run`, meta);
        continue;
      }
      if ("fail" in verdict) {
        this.#logger.warn(
          `cron: plugin "${verdict.plugin}" refused this run: ${verdict.fail}`,
          meta,
        );
        continue;
      }
      if (!isObject(verdict.payload)) {
        this.#logger.error(
          "cron: a beforeJobSchedule hook returned a payload that is not an object; " +
            "this run is not scheduled",
          meta,
        );
        continue;
      }
      const next = verdict.options ?? options;
      const problem = checkCronOptions(next);
      if (problem) {
        this.#logger.error(
          `cron: a beforeJobSchedule hook returned bad ${problem}; ` +
            "this run is not scheduled",
          meta,
        );
        continue;
      }
      if (verdict.payload === payload && next === options) {
        out.push(d);
        continue;
      }
      const { queueName, priority, maxAttempts, jobKey, jobKeyMode } = next;
      out.push({
        ...d,
        item: {
          ...item,
          payload: verdict.payload,
          options: { queueName, priority, maxAttempts, jobKey, jobKeyMode },
        },
      });
    }
    return out;
  }

  /** Jobs were added for the cron items in `added` at minute `ts`. */
  scheduled<T extends CronDueLike>(
    ts: number,
    due: readonly T[],
    added: readonly string[],
    payloadOf: (d: T) => Record<string, unknown>,
  ): void {
    if (!this.#scheduled || added.length === 0) return;
    const set = new Set(added);
    for (const d of due) {
      if (!set.has(d.item.identifier)) continue;
      this.#registry.emit("cron:scheduled", {
        identifier: d.item.identifier,
        task: d.item.task,
        ts: new Date(ts),
        backfilled: d.backfilled,
        payload: payloadOf(d),
      });
    }
  }
}
