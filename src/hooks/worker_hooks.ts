/**
 * The worker's side of the hooks: one object the pool, the local queue, the
 * notifier and the recovery service call at each step of a job's life. Every
 * method checks, with flags computed once, whether anything listens, and
 * returns at once when nothing does; job views (`HookJob`) are built only for
 * workers with job hooks, once per job.
 *
 * The worker creates it only when at least one hook is registered, so a
 * worker without plugins pays one `undefined` check per call site.
 *
 * @module
 */
import type { Clock } from "../runtime/types.ts";
import type { FailedJobRow } from "../sql/jobs_fail.ts";
import type { FetchedJobRow } from "../sql/jobs_fetch.ts";
import type { HookRegistry, RunVerdict } from "./registry.ts";
import type { HookJob, WorkerErrorSource } from "./types.ts";

/** A fetched job row with its task identifier (the worker's `FetchedJob`). */
export type HookJobRow = FetchedJobRow & { identifier: string };

/** What the local queue reports (see `src/worker/local_queue.ts`). */
export interface LocalQueueEvents {
  refetchDelayStart(durationMs: number): void;
  refetchDelayAbort(notifications: number): void;
  refetchDelayExpired(): void;
  returned(jobs: readonly HookJobRow[], reason: "ttl" | "shutdown"): void;
}

/** What a sweep recovered (the fields of `SweepStaleWorkersResult` hooks use). */
export interface SweepSummary {
  workerIds: readonly string[];
  unregisteredIds: readonly string[];
  jobIds: readonly string[];
  unlockedQueues: number;
}

// Per-job hook state rides on the fetched row itself (symbol keys: invisible to the SQL layer
// and to JSON), which is cheaper than side tables and goes away with the row.
const VIEW = Symbol("spool.hooks.view");
const STARTED = Symbol("spool.hooks.startedAt");
const SKIPPED = Symbol("spool.hooks.skipped");
type Tracked = HookJobRow & { [VIEW]?: HookJob; [STARTED]?: number; [SKIPPED]?: true };

/** Build the view hooks get of a fetched job. */
export function hookJob(row: HookJobRow): HookJob {
  return {
    id: row.id,
    identifier: row.identifier,
    payload: row.payload,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    key: row.key,
    queueName: row.queue_name,
    runAt: row.run_at,
    priority: row.priority,
    flags: row.flags ? Object.keys(row.flags) : [],
    createdAt: row.created_at,
  };
}

/** Hook calls of one worker; see the module doc. */
export class WorkerHooks {
  /** The registry behind these calls. */
  readonly registry: HookRegistry;
  /** True when a `beforeJobRun` interceptor is registered (the pool awaits it). */
  readonly gated: boolean;
  /** Local queue reporting, or undefined when no local queue event has observers. */
  readonly localQueue: LocalQueueEvents | undefined;
  /**
   * Run the task inside the `aroundJobRun` wrappers; undefined when none is
   * registered (run it directly).
   */
  readonly aroundRun: ((row: HookJobRow, run: () => Promise<void>) => Promise<void>) | undefined;
  #workerId: string;
  #clock: Clock;
  #fetch: boolean;
  #start: boolean;
  #complete: boolean;
  #fail: boolean;
  #retry: boolean;
  #timed: boolean;
  #announced = false;

  constructor(registry: HookRegistry, workerId: string, clock: Clock) {
    this.registry = registry;
    this.#workerId = workerId;
    this.#clock = clock;
    const has = (n: Parameters<HookRegistry["has"]>[0]) => registry.has(n);
    this.gated = has("beforeJobRun");
    this.#fetch = has("job:fetch");
    this.#start = has("job:start");
    this.#complete = has("job:complete");
    this.#fail = has("job:fail");
    this.#retry = has("job:retry");
    this.#timed = this.#complete || this.#fail;
    const wrapper = registry.runWrapper();
    this.aroundRun = wrapper &&
      ((row, run) => wrapper({ workerId: this.#workerId, job: this.view(row) }, run));
    this.localQueue = has("localQueue:refetchDelay:start") ||
        has("localQueue:refetchDelay:abort") || has("localQueue:refetchDelay:expired") ||
        has("localQueue:return")
      ? this.#localQueueEvents()
      : undefined;
  }

  /** The (cached) hook view of `row`. */
  view(row: HookJobRow): HookJob {
    return (row as Tracked)[VIEW] ??= hookJob(row);
  }

  /**
   * Wrap the local queue's fetch so that fetched jobs and fetch errors are
   * reported; undefined when nobody listens (use the fetch as is).
   */
  wrapFetch<J extends HookJobRow>(
    fetch: (count: number) => Promise<J[]>,
  ): ((count: number) => Promise<J[]>) | undefined {
    const jobs = this.#fetch;
    const errors = this.registry.has("worker:error");
    const fetches = this.registry.has("worker:fetch");
    if (!jobs && !errors && !fetches) return undefined;
    const registry = this.registry;
    const workerId = this.#workerId;
    return async (count) => {
      let rows: J[];
      const at = fetches ? this.#clock.now() : 0;
      try {
        rows = await fetch(count);
      } catch (error) {
        if (errors) registry.emit("worker:error", { workerId, source: "fetch", error });
        throw error;
      }
      if (fetches) {
        const durationMs = Math.max(0, this.#clock.now() - at);
        registry.emit("worker:fetch", {
          workerId,
          requested: count,
          fetched: rows.length,
          durationMs,
        });
      }
      if (jobs) {
        for (const row of rows) registry.emit("job:fetch", { workerId, job: this.view(row) });
      }
      return rows;
    };
  }

  /** Run the `beforeJobRun` interceptors (only call when {@linkcode gated}). */
  async beforeRun(row: HookJobRow): Promise<RunVerdict> {
    const verdict = await this.registry.beforeJobRun({
      workerId: this.#workerId,
      job: this.view(row),
    });
    if (verdict && "skip" in verdict) (row as Tracked)[SKIPPED] = true;
    return verdict;
  }

  /** The task is about to run. */
  started(row: HookJobRow): void {
    if (this.#timed) (row as Tracked)[STARTED] = this.#clock.now();
    if (this.#start) {
      this.registry.emit("job:start", { workerId: this.#workerId, job: this.view(row) });
    }
  }

  /** The completion was written (of a task that ran, or that an interceptor skipped). */
  completed(row: HookJobRow): void {
    if (!this.#complete) return;
    const skipped = (row as Tracked)[SKIPPED] === true;
    this.registry.emit("job:complete", {
      workerId: this.#workerId,
      job: this.view(row),
      durationMs: this.#elapsed(row),
      skipped,
    });
  }

  /** The failure was written (`updated` is the row `jobsFail` returned, if any). */
  failed(
    row: HookJobRow,
    error: string,
    cause: unknown,
    updated: FailedJobRow | undefined,
    retryItems: readonly unknown[] | undefined,
  ): void {
    if (!this.#fail && !this.#retry) return;
    const attempts = updated?.attempts ?? row.attempts;
    const maxAttempts = updated?.max_attempts ?? row.max_attempts;
    const permanent = attempts >= maxAttempts;
    const workerId = this.#workerId;
    const job = this.view(row);
    if (this.#fail) {
      this.registry.emit("job:fail", {
        workerId,
        job,
        error,
        cause,
        attempts,
        maxAttempts,
        permanent,
        durationMs: this.#elapsed(row),
        retryItems,
      });
    }
    if (this.#retry && updated && !permanent) {
      this.registry.emit("job:retry", { workerId, job, error, attempts, runAt: updated.run_at });
    }
  }

  /** A driver or connection error the worker recovers from. */
  error(source: WorkerErrorSource, error: unknown): void {
    this.registry.emit("worker:error", { workerId: this.#workerId, source, error });
  }

  /** A sweep finished; reported when it recovered anything. */
  swept(result: SweepSummary | undefined): void {
    if (!result || !this.registry.has("recovery:sweep")) return;
    const dead = [...result.workerIds, ...result.unregisteredIds];
    if (dead.length === 0 && result.jobIds.length === 0) return;
    this.registry.emit("recovery:sweep", {
      workerId: this.#workerId,
      deadWorkerIds: dead,
      jobIds: [...result.jobIds],
      unlockedQueues: result.unlockedQueues,
    });
  }

  /** The worker started (`run()` or the first `runOnce()`); reported once per worker. */
  workerStart(schema: string, concurrency: number, tasks: string[]): void {
    if (this.#announced) return;
    this.#announced = true;
    this.registry.emit("worker:start", { workerId: this.#workerId, schema, concurrency, tasks });
  }

  /** The worker stopped; waits for the observers (each up to `hookTimeout`). Once, after a start. */
  async workerShutdown(schema: string): Promise<void> {
    if (!this.#announced) return;
    this.#announced = false;
    await this.registry.emitAndWait("worker:shutdown", { workerId: this.#workerId, schema });
  }

  #elapsed(row: HookJobRow): number {
    const at = (row as Tracked)[STARTED];
    return at === undefined ? 0 : Math.max(0, this.#clock.now() - at);
  }

  #localQueueEvents(): LocalQueueEvents {
    const registry = this.registry;
    const workerId = this.#workerId;
    return {
      refetchDelayStart: (durationMs) =>
        registry.emit("localQueue:refetchDelay:start", { workerId, durationMs }),
      refetchDelayAbort: (notifications) =>
        registry.emit("localQueue:refetchDelay:abort", { workerId, notifications }),
      refetchDelayExpired: () => registry.emit("localQueue:refetchDelay:expired", { workerId }),
      returned: (jobs, reason) => {
        if (!registry.has("localQueue:return") || jobs.length === 0) return;
        registry.emit("localQueue:return", {
          workerId,
          jobs: jobs.map((j) => this.view(j)),
          reason,
        });
      },
    };
  }
}
