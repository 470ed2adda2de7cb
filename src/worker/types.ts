/**
 * Public types of the worker: options and the `Worker` handle.
 *
 * @module
 */
import type { Driver } from "../driver/types.ts";
import type { Logger } from "../logger.ts";
import type { Clock, Runtime } from "../runtime/types.ts";
import type { ProvidedExtension } from "../task/extension.ts";
import type { BatchTaskDefinition, TaskDefinition } from "../task/types.ts";
import type { WorkerUtils } from "../utils/worker_utils.ts";
import type { LocalQueueOptions } from "./local_queue.ts";
import type { CronInput } from "../cron/resolve.ts";
import type { RecoveryOptions } from "../recovery/options.ts";
import type { Plugin } from "../hooks/types.ts";

/** Any task definition (plain or batch), whatever its payload type. */
// deno-lint-ignore no-explicit-any
export type AnyTaskDefinition = TaskDefinition<any> | BatchTaskDefinition<any>;

/**
 * Flags a worker refuses: a fixed list, or a function asked before every
 * fetch (it may be async; `null`/`undefined`/`[]` means none).
 */
export type ForbiddenFlags =
  | readonly string[]
  | (() => readonly string[] | null | undefined | Promise<readonly string[] | null | undefined>);

/**
 * Retry delay after a failure: `attempts` counts the attempt that just failed
 * (1 after the first failure); returns seconds. The default is
 * graphile-worker's curve, `exp(min(attempts, 10))` seconds.
 */
export type BackoffFunction = (attempts: number) => number;

/** Options of {@linkcode createWorker}. */
export interface WorkerOptions {
  /** Task definitions this worker runs (identifiers must be unique). */
  tasks: readonly AnyTaskDefinition[];
  /** PostgreSQL connection URL; the worker opens (and closes) its own pool. */
  database?: string;
  /** A driver to use instead of `database`; the worker never closes a driver you pass. */
  driver?: Driver;
  /** Worker schema. @default {"graphile_worker"} */
  schema?: string;
  /** Jobs run at the same time by this worker. @default {1} */
  concurrency?: number;
  /** Milliseconds between polls when idle (LISTEN wakes the worker sooner). @default {2000} */
  pollInterval?: number;
  /** Compare run_at with this process's clock instead of the database's. @default {false} */
  useLocalTime?: boolean;
  /** Jobs with any of these flags are not fetched by this worker. */
  forbiddenFlags?: ForbiddenFlags;
  /** Where log lines go. @default {consoleLogger()} */
  logger?: Logger;
  /** Do not install SIGINT/SIGTERM handlers. @default {false} */
  noHandleSignals?: boolean;
  /** Milliseconds running jobs get to finish on shutdown before they are aborted. @default {5000} */
  gracePeriod?: number;
  /** Milliseconds an interrupted job waits before it may run again. @default {30000} */
  interruptedJobRetryDelay?: number;
  /**
   * Default time a job may run: a duration (`"30s"`, `"5m"`), milliseconds,
   * or `"none"`. A task's own `timeout` wins. When it expires the job's
   * `ctx.signal` is aborted (reason kind `"timeout"`) and the attempt fails
   * with "timed out after 30 s", retried as usual. @default {"none"}
   */
  jobTimeout?: string | number;
  /** Pool size when the worker opens the pool from `database`. @default {10} */
  maxPoolSize?: number;
  /** Application state for tasks: `[Key.provide(value), …]`, read with `ctx.ext(Key)`. */
  extensions?: readonly ProvidedExtension[];
  /** Retry delay after a failure; graphile-worker's exponential curve by default. */
  backoff?: BackoffFunction;
  /** Crontab text in graphile-worker's format, scheduled while the worker runs. */
  crontab?: string;
  /** Typed schedules (`cron.dailyAt(task, 8, 0)`, …) or crontab lines, scheduled while the worker runs. */
  cron?: readonly CronInput[];
  /**
   * Fetch jobs ahead in batches and hold up to `size` of them until a slot is
   * free (handed back after `ttl`, and on shutdown, without using an attempt);
   * `false` or `size: 0` fetches only for idle slots. On by default with
   * `size = min(500, max(4, 4 × concurrency))`, `ttl` 60 s, no refetch delay.
   */
  localQueue?: LocalQueueOptions | false;
  /**
   * Milliseconds a completion waits so more can share its write; -1 (default)
   * writes at once and batches only what arrives while a write is in flight.
   */
  completeJobBatchDelay?: number;
  /** Like `completeJobBatchDelay`, for failures. @default {-1} */
  failJobBatchDelay?: number;
  /**
   * Dead-worker recovery: the worker registers, renews a heartbeat, and
   * sweeps workers whose heartbeat went stale (their jobs run again, the
   * interrupted attempt not counted). On by default; locks of processes that
   * never registered (graphile-worker) are left to the 4-hour reset unless
   * `sweepUnregistered` is set. `{ enabled: false }` turns it off.
   */
  recovery?: RecoveryOptions;
  /** Plugins: named sets of lifecycle hooks (observers and interceptors); see `Plugin`. */
  plugins?: readonly Plugin[];
  /**
   * Milliseconds a `beforeJobRun`/`beforeJobSchedule` interceptor may take
   * before it counts as a refusal (the job fails / is not added). @default {5000}
   */
  hookTimeout?: number;
  /** @internal Clock for tests. */
  clock?: Clock;
  /** @internal Runtime (signals) for tests. */
  runtime?: Runtime;
}

/** Lifecycle state of a {@linkcode Worker}. */
export type WorkerState = "ready" | "running" | "stopping" | "stopped";

/** A snapshot of a worker's health, from {@linkcode Worker.status} (read-only, no I/O). */
export interface WorkerStatus {
  /** "ready" (created, or between `runOnce()` calls), "running", "stopping" (draining), "stopped". */
  state: WorkerState;
  /**
   * Whether the LISTEN connection is up: `null` when the worker is not
   * subscribed (not running `run()`, or a driver that cannot LISTEN).
   */
  listening: boolean | null;
  /** When the worker last renewed its heartbeat; `null` before the first or with recovery off. */
  lastHeartbeatAt: Date | null;
  /** Milliseconds between heartbeats; `null` with recovery off. */
  heartbeatInterval: number | null;
}

/** A worker created by {@linkcode createWorker}. */
export interface Worker extends AsyncDisposable {
  /** This worker's id, written to `locked_by` on the jobs and queues it holds. */
  readonly id: string;
  /** WorkerUtils on the worker's driver and schema (released with the worker). */
  readonly utils: WorkerUtils;
  /**
   * Migrate, then process jobs until {@linkcode Worker.stop} (or a signal).
   * Resolves when the worker has fully stopped and released its pool.
   */
  run(): Promise<void>;
  /**
   * Migrate, reset stale locks, run every job that is runnable now, then
   * resolve. Nothing it started keeps running afterwards: a pool the worker
   * opened from `database` is closed (the next call reconnects, and its
   * connections then close after a second idle), so a script ends by itself.
   * The in-memory default database stays open until {@linkcode Worker.stop}.
   *
   * @example
   * ```ts ignore
   * await using worker = await createWorker({ database: url, tasks: [hello] });
   * await worker.runOnce(); // the worker is stopped when the block ends
   * ```
   */
  runOnce(): Promise<void>;
  /**
   * Graceful shutdown: stop fetching, let running jobs finish for up to
   * `gracePeriod`, then abort (`ctx.signal`) and hand back the rest; close
   * the pool if the worker opened it. Idempotent: later calls return the
   * same promise. `await using worker = …` calls it at the end of the block.
   */
  stop(): Promise<void>;
  /** The worker's state, LISTEN and heartbeat, for health checks (see `@spool/worker/health`). */
  status(): WorkerStatus;
}
