/**
 * Public types of lifecycle hooks: the events observers receive (a map from
 * event name to context type), the two interceptors and what they may
 * return, and plugins.
 *
 * Observers (`"worker:start"`, `"job:fail"`, …) are told what happened; their
 * return value is ignored and they are never awaited on the job path.
 * Interceptors (`beforeJobRun`, `beforeJobSchedule`) decide: their result is
 * awaited (bounded by `hookTimeout`).
 *
 * This layer sits below `src/utils`, `src/task` and `src/worker`, so the job
 * and option shapes here are its own (structurally equal to `JobInfo` and
 * `JobOptions`).
 *
 * @module
 */

/** A job as hooks see it: what a task sees (`ctx.job`) plus the stored payload. */
export interface HookJob {
  /** bigint id, as a string. */
  readonly id: string;
  /** Task identifier. */
  readonly identifier: string;
  /** The payload as stored (JSON), before the task's schema parsed it. */
  readonly payload: unknown;
  /** Attempts including the current one. */
  readonly attempts: number;
  /** Attempts allowed in all. */
  readonly maxAttempts: number;
  /** Job key, if any. */
  readonly key: string | null;
  /** Named queue, if any. */
  readonly queueName: string | null;
  /** When the job became (or becomes) runnable. */
  readonly runAt: Date;
  /** Lower runs first. */
  readonly priority: number;
  /** Flag names set on the job. */
  readonly flags: readonly string[];
  /** When the job was added. */
  readonly createdAt: Date;
}

/** Job options as a schedule interceptor sees and returns them (the `JobOptions` shape). */
export interface HookJobOptions {
  /** Named queue (jobs of one queue run one at a time). */
  queueName?: string;
  /** Run no earlier than this. */
  runAt?: Date;
  /** Lower runs first. */
  priority?: number;
  /** Attempts allowed in all. */
  maxAttempts?: number;
  /** Job key (deduplication and replacement). */
  jobKey?: string;
  /** What an add with an existing key does. */
  jobKeyMode?: "replace" | "preserve_run_at" | "unsafe_dedupe";
  /** Flag names (see `forbiddenFlags`). */
  flags?: string[];
}

/** A job an add wrote, as the `job:added` event reports it. */
export interface HookAddedJob {
  /** bigint id, as a string. */
  readonly id: string;
  /** Task identifier. */
  readonly identifier: string;
  /** The payload as stored (a `_trace` written by a plugin included). */
  readonly payload: unknown;
}

/** Where a worker error came from. */
export type WorkerErrorSource = "fetch" | "listen" | "handBack" | "job";

/**
 * Observer events and their contexts. Every job event carries `workerId` and
 * `job`; events fire in this order for one job: `job:fetch` → (`beforeJobRun`)
 * → `job:start` → `job:complete` | `job:fail` (→ `job:retry`).
 */
export interface HookEvents {
  /** The worker is running: migrated, subscribed, its pool started. */
  "worker:start": { workerId: string; schema: string; concurrency: number; tasks: string[] };
  /**
   * The worker has stopped: no job is held any more (its pool is closed
   * right after). Observers of this event are awaited, up to `hookTimeout`.
   */
  "worker:shutdown": { workerId: string; schema: string };
  /** A driver or connection error the worker recovers from by itself (logged too). */
  "worker:error": { workerId: string; source: WorkerErrorSource; error: unknown };
  /** A fetch locked this job for the worker. */
  "job:fetch": { workerId: string; job: HookJob };
  /**
   * A fetch statement returned: it asked for `requested` jobs, locked
   * `fetched`, and took `durationMs` (fires before the `job:fetch` events of
   * its jobs, also for empty fetches).
   */
  "worker:fetch": { workerId: string; requested: number; fetched: number; durationMs: number };
  /**
   * An add call (WorkerUtils, a transaction adder or a task's `ctx.addJob…`)
   * finished. `jobs` are the jobs it wrote, in order (empty when it failed or
   * every job was skipped); `error` is set when it failed (nothing was added)
   * and is what the add throws. `durationMs` covers the checks and the
   * database round trip, not the `beforeJobSchedule` interceptors. `call` is
   * the object the `beforeJobSchedule` contexts of the same add carried. In a
   * caller's transaction the jobs exist once that transaction commits.
   */
  "job:added": {
    method: string;
    call: object;
    jobs: readonly HookAddedJob[];
    durationMs: number;
    error?: unknown;
  };
  /** The task is about to run (after every `beforeJobRun` interceptor continued). */
  "job:start": { workerId: string; job: HookJob };
  /**
   * The job succeeded and its completion was written (the job row is gone).
   * `skipped`: a `beforeJobRun` interceptor skipped it; the task never ran.
   */
  "job:complete": { workerId: string; job: HookJob; durationMs: number; skipped: boolean };
  /**
   * The attempt failed and the failure was written. `error` is the text
   * stored in `last_error`; `cause` the thrown value when there was one.
   * `permanent`: no attempts left, the job will not run again. Batch jobs
   * with some failed items set `retryItems` (the stored items kept for the
   * retry).
   */
  "job:fail": {
    workerId: string;
    job: HookJob;
    error: string;
    cause: unknown;
    attempts: number;
    maxAttempts: number;
    permanent: boolean;
    durationMs: number;
    retryItems: readonly unknown[] | undefined;
  };
  /** A failed job was scheduled to run again at `runAt` (fires right after `job:fail`). */
  "job:retry": { workerId: string; job: HookJob; error: string; attempts: number; runAt: Date };
  /** The cron scheduler handles minute `ts`; `due` lists the cron item identifiers matching it. */
  "cron:tick": { ts: Date; due: string[] };
  /** The cron scheduler added a job for cron item `identifier` at minute `ts`. */
  "cron:scheduled": {
    identifier: string;
    task: string;
    ts: Date;
    backfilled: boolean;
    payload: unknown;
  };
  /** The local queue pauses fetching for `durationMs` after a fetch found few jobs. */
  "localQueue:refetchDelay:start": { workerId: string; durationMs: number };
  /** Enough notifications arrived to end the refetch delay early. */
  "localQueue:refetchDelay:abort": { workerId: string; notifications: number };
  /** The refetch delay ran out. */
  "localQueue:refetchDelay:expired": { workerId: string };
  /**
   * Jobs fetched but not started went back to the database without using an
   * attempt: they waited longer than the local queue's `ttl`, or the worker
   * is shutting down.
   */
  "localQueue:return": { workerId: string; jobs: HookJob[]; reason: "ttl" | "shutdown" };
  /** This worker's sweeper recovered the jobs of dead workers. */
  "recovery:sweep": {
    workerId: string;
    deadWorkerIds: string[];
    jobIds: string[];
    unlockedQueues: number;
  };
}

/** Names of observer events. */
export type HookEventName = keyof HookEvents;

/** An observer: told about one event; what it returns is ignored (a rejection is logged). */
export type Observer<E extends HookEventName> = (ctx: HookEvents[E]) => unknown;

/** Context of a `beforeJobRun` interceptor. */
export interface BeforeJobRunContext {
  /** The worker running the job. */
  workerId: string;
  /** The job. */
  job: HookJob;
}

/**
 * What a `beforeJobRun` interceptor returns:
 * - `undefined` (or nothing): continue (the next interceptor, then the task);
 * - `{ skip: true }`: do not run the task; the job completes (is deleted);
 * - `{ fail: "reason" }`: do not run the task; the attempt fails with `reason`
 *   (retried with backoff like any failure).
 *
 * A throwing interceptor fails the attempt with its error; one that does not
 * settle within `hookTimeout` fails it with a timeout message.
 */
export type RunDecision = undefined | void | { skip: true } | { fail: string };

/** Context of a `beforeJobSchedule` interceptor: a job about to be added. */
export type BeforeJobScheduleContext =
  | {
    /** Added through WorkerUtils (or a task's `ctx.addJob…`). */
    source: "add";
    /**
     * The add call: `addJob`, `addRawJob`, `addJobs`, `addRawJobs`, `addJobsFast`,
     * `addRawJobsFast` or `addBatchJob`.
     */
    method: string;
    /** Task identifier. */
    identifier: string;
    /** Payload as given (typed adds check it against the task's schema after the interceptors). */
    payload: unknown;
    /** Options as given. */
    options: HookJobOptions | undefined;
    /**
     * One object per add call, shared by every job of a bulk add and handed
     * to the `job:added` event of the same call (a `WeakMap` key for state
     * that spans the add).
     */
    call: object;
  }
  | {
    /** Added by the cron scheduler. */
    source: "cron";
    /** Task identifier. */
    identifier: string;
    /** The full payload, including `_cron`. */
    payload: Record<string, unknown>;
    /** The cron item's options; `runAt` is the scheduled minute. */
    options: HookJobOptions;
    /** The cron run: item identifier, minute, and whether it is a backfill. */
    cron: { identifier: string; ts: Date; backfilled: boolean };
  };

/**
 * What a `beforeJobSchedule` interceptor returns (interceptors are chained:
 * each sees the payload and options the previous one returned):
 * - `undefined` (or nothing): continue unchanged;
 * - `{ payload?, options? }`: continue with these instead (a field left out is kept);
 * - `{ skip: true }`: do not add the job (see `JobSkippedError`);
 * - `{ fail: "reason" }`: refuse the job (the add throws `JobRejectedError`).
 *
 * Cron runs take `queueName`, `priority`, `maxAttempts`, `jobKey` and
 * `jobKeyMode` from `options` (their `runAt` is the scheduled minute), and
 * their payload must stay an object.
 */
export type ScheduleDecision =
  | undefined
  | void
  | { skip: true }
  | { fail: string }
  | { payload?: unknown; options?: HookJobOptions };

/**
 * An `aroundJobRun` interceptor: wraps the task's execution. It must call
 * `run()` once and should return (or await) its promise; whatever context it
 * sets up around the call (an active span, an AsyncLocalStorage value) is
 * the task's. The job's outcome is the task's: a rejection of `run()` fails
 * the attempt whether or not the wrapper rethrows it, and a throw after
 * `run()` settled is logged and ignored. A wrapper that throws before
 * calling `run()`, or returns without calling it, fails the attempt. Not
 * bounded by `hookTimeout` (it lasts as long as the task).
 */
export type RunWrapper = (ctx: BeforeJobRunContext, run: () => Promise<void>) => Promise<void>;

/** Interceptors by name. */
export interface Interceptors {
  /** Wraps the task's execution (see {@linkcode RunWrapper}). */
  aroundJobRun: RunWrapper;
  /** Decides whether a fetched job runs (see {@linkcode RunDecision}). */
  beforeJobRun: (ctx: BeforeJobRunContext) => RunDecision | Promise<RunDecision>;
  /** Decides whether and how a job is added (see {@linkcode ScheduleDecision}). */
  beforeJobSchedule: (
    ctx: BeforeJobScheduleContext,
  ) => ScheduleDecision | Promise<ScheduleDecision>;
}

/** Names of interceptors. */
export type InterceptorName = keyof Interceptors;

/** Every hook a plugin can register, by name. */
export type HookHandlers = { [E in HookEventName]: Observer<E> } & Interceptors;

/** Any hook name: an observer event or an interceptor. */
export type HookName = keyof HookHandlers;

/** What a plugin's `setup` receives. */
export interface HookApi {
  /** Register `handler` for an event (observer) or an interceptor. Call it during `setup`. */
  on<N extends HookName>(name: N, handler: HookHandlers[N]): void;
}

/**
 * A plugin: a named set of hooks. Either give `hooks` (an object of
 * handlers by name) or `setup(api)` (register with `api.on`, keep state in
 * the closure), or both. `setup` runs once, synchronously, when the worker
 * (or WorkerUtils) is created. Names must be unique among the plugins of one
 * worker.
 *
 * @example
 * ```ts
 * import type { Plugin } from "@spool/worker";
 * const counter: Plugin = {
 *   name: "counter",
 *   setup(api) {
 *     let done = 0;
 *     api.on("job:complete", () => void done++);
 *     api.on("worker:shutdown", () => console.log(`${done} job(s) completed`));
 *   },
 * };
 * ```
 */
export interface Plugin {
  /** Unique name, used in log lines about this plugin's hooks. */
  readonly name: string;
  /** Register hooks (and set up state); runs once at creation. Must not be async. */
  readonly setup?: (api: HookApi) => void;
  /** Hooks by name. */
  readonly hooks?: Partial<HookHandlers>;
}
