/**
 * `createWorkerUtils`: add and manage jobs without running a worker.
 *
 * @module
 */
import type { Driver, Queryable } from "../driver/types.ts";
import { resolveDriver } from "../driver/resolve.ts";
import { migrate, type MigrateResult } from "../migrate/migrate.ts";
import { SpoolError, ValidationError } from "../errors.ts";
import { type Logger, scopedLogger, silentLogger } from "../logger.ts";
import { validateSchemaName } from "../sql/ident.ts";
import { jobFromRow } from "../sql/job_row.ts";
import {
  jobGet,
  jobGetByKey,
  jobQueuesGc,
  jobRemove,
  jobsComplete,
  jobsDeletePermafailed,
  jobsPermanentlyFail,
  jobsReschedule,
  tasksGc,
  workersForceUnlock,
} from "../sql/jobs_admin.ts";
import {
  checkCleanup,
  checkId,
  checkIds,
  checkReschedule,
  checkString,
  checkStrings,
} from "./_admin_args.ts";
import { createJobAdder, dbCall } from "./job_adder.ts";
import {
  type CancelJobsOptions,
  type CancelJobsResult,
  cancelWith,
  checkCancelByKey,
  checkCancelJobs,
} from "./cancel_jobs.ts";
import { createHookRegistry } from "../hooks/plugins.ts";
import type { HookRegistry } from "../hooks/registry.ts";
import { ScheduleHooks } from "../hooks/schedule_hooks.ts";
import type { Plugin } from "../hooks/types.ts";
import type { CleanupOptions, CleanupResult, Job, JobAdder, RescheduleOptions } from "./types.ts";
import {
  type ActiveWorker,
  listActiveWorkers,
  type ListActiveWorkersOptions,
  sweepStaleWorkers,
  type SweepStaleWorkersOptions,
  type SweepStaleWorkersResult,
} from "./workers_admin.ts";

/** Options for {@linkcode createWorkerUtils}. */
export interface WorkerUtilsOptions {
  /**
   * PostgreSQL connection URL; Spool opens (and later closes) the pool. With
   * neither `database` nor `driver`, an in-memory PGlite database is used.
   */
  database?: string;
  /** A driver you built (e.g. `postgresJs(sql)`); Spool never closes it. */
  driver?: Driver;
  /** Schema of the job tables (default `graphile_worker`). */
  schema?: string;
  /** Where to log (default: silent). */
  logger?: Logger;
  /** Pool size when Spool opens the pool from `database`. */
  maxPoolSize?: number;
  /** Plugins; their `beforeJobSchedule` interceptors see every add (see `Plugin`). */
  plugins?: readonly Plugin[];
  /** Milliseconds an interceptor may take before it counts as a refusal. @default {5000} */
  hookTimeout?: number;
  /** @internal The worker's hook registry (instead of `plugins`). */
  hooks?: HookRegistry;
}

/** Add and manage jobs; created by {@linkcode createWorkerUtils}. */
export interface WorkerUtils extends JobAdder, AsyncDisposable {
  /** The schema in use. */
  readonly schema: string;
  /**
   * The driver in use. Available at once when `driver` was passed, otherwise
   * after the first call (or {@linkcode WorkerUtils.getDriver}); throws before that.
   */
  readonly driver: Driver;
  /** The logger in use. */
  readonly logger: Logger;
  /** The driver, resolving it (once) if needed. */
  getDriver(): Promise<Driver>;
  /** Install or upgrade the schema (see `migrate`). */
  migrate(): Promise<MigrateResult>;
  /** One job by id, or null. */
  getJob(id: string): Promise<Job | null>;
  /** The job holding `key`, or null. */
  getJobByKey(key: string): Promise<Job | null>;
  /**
   * Remove the job with `key`: deleted when not running; when a worker holds it,
   * its key is cleared and it will not be retried. Returns the job, or null.
   */
  removeJob(key: string): Promise<Job | null>;
  /** Mark jobs done (deleted); jobs locked by a worker are skipped. Returns those done. */
  completeJobs(ids: readonly string[]): Promise<Job[]>;
  /** Stop retrying jobs (attempts = maxAttempts, lastError = reason); skips locked ones. */
  permanentlyFailJobs(ids: readonly string[], reason?: string): Promise<Job[]>;
  /**
   * Cancel jobs: a waiting job is permanently failed at once with
   * `last_error` "cancelled: <reason>" and never runs; for a running job the
   * Spool worker holding it is notified, aborts its `ctx.signal` (reason
   * kind "cancelled") and fails it permanently with the same message, within
   * about a second. Jobs that already finished are skipped without error.
   *
   * @example
   * ```ts ignore
   * const { cancelled, running } = await utils.cancelJobs([job.id], { reason: "user left" });
   * ```
   */
  cancelJobs(ids: readonly string[], options?: CancelJobsOptions): Promise<CancelJobsResult>;
  /** {@linkcode WorkerUtils.cancelJobs} for the job holding `key` (nothing when none does). */
  cancelJobByKey(key: string, options?: CancelJobsOptions): Promise<CancelJobsResult>;
  /** Change when/how jobs run; skips locked ones. Returns the changed jobs. */
  rescheduleJobs(ids: readonly string[], options: RescheduleOptions): Promise<Job[]>;
  /**
   * Release the jobs and queues held by these (dead) workers, at once and
   * whatever their age (graphile-worker semantics: attempts and run_at are
   * kept). Prefer {@linkcode WorkerUtils.sweepStaleWorkers}, which only
   * touches workers whose heartbeat is stale and gives the attempt back.
   */
  forceUnlockWorkers(workerIds: readonly string[]): Promise<void>;
  /**
   * Workers registered for dead-worker recovery, with their metadata, last
   * heartbeat, whether it is older than `threshold` (default 5 min) and how
   * many jobs each holds.
   */
  listActiveWorkers(options?: ListActiveWorkersOptions): Promise<ActiveWorker[]>;
  /**
   * Recover the jobs of workers whose heartbeat is older than `threshold`
   * (default 5 min): unlocked, the interrupted attempt given back, delayed by
   * `recoveryDelay`; their queues unlocked, their registrations removed. With
   * `dryRun`, only reports what would be recovered. One sweep runs at a time
   * across all processes (`swept: false` when another was running).
   */
  sweepStaleWorkers(options?: SweepStaleWorkersOptions): Promise<SweepStaleWorkersResult>;
  /**
   * Maintenance (graphile-worker semantics): no argument runs GC_JOB_QUEUES;
   * an object without `tasks` runs GC_JOB_QUEUES and GC_TASK_IDENTIFIERS.
   * GC_TASK_IDENTIFIERS is unsafe while workers run unless their task
   * identifiers are in `taskIdentifiersToKeep`.
   */
  cleanup(options?: CleanupOptions): Promise<CleanupResult>;
  /** Add jobs inside your own transaction: they commit or roll back with it. */
  withTransaction(tx: Queryable): JobAdder;
  /** Close the driver if Spool opened it. Idempotent. */
  release(): Promise<void>;
}

/**
 * Create WorkerUtils. Creation does no I/O (it works in edge functions); the
 * driver is resolved once, on the first call.
 *
 * @example
 * ```ts ignore
 * import { createWorkerUtils } from "@spool/worker";
 * await using utils = createWorkerUtils({ database: "postgres://localhost/app" });
 * await utils.migrate();
 * const job = await utils.addRawJob("send_email", { to: "a@example.com" }, { priority: -1 });
 * await utils.rescheduleJobs([job.id], { runAt: new Date(Date.now() + 60_000) });
 * ```
 */
export function createWorkerUtils(options: WorkerUtilsOptions = {}): WorkerUtils {
  if (typeof options !== "object" || options === null) {
    throw new ValidationError("options", "must be an object");
  }
  const schema = validateSchemaName(options.schema ?? "graphile_worker");
  if (options.database !== undefined && typeof options.database !== "string") {
    throw new ValidationError("database", "must be a connection URL string");
  }
  if (options.database !== undefined && options.driver !== undefined) {
    throw new ValidationError("database", "give either database or driver, not both");
  }
  if (options.driver !== undefined && typeof options.driver?.query !== "function") {
    throw new ValidationError("driver", "must be a Spool driver (e.g. postgresJs(sql))");
  }
  const logger = scopedLogger(options.logger ?? silentLogger, { label: "WorkerUtils" });
  let resolved: { driver: Driver; owned: boolean } | undefined = options.driver
    ? { driver: options.driver, owned: false }
    : undefined;
  let pending: Promise<{ driver: Driver; owned: boolean }> | undefined;
  let released = false;

  const getDriver = async (): Promise<Driver> => {
    if (released) {
      throw new SpoolError("SHUTDOWN", "WorkerUtils was released; create a new one");
    }
    if (resolved) return resolved.driver;
    pending ??= resolveDriver({
      database: options.database,
      maxPoolSize: options.maxPoolSize,
    }).then((r) => (resolved = r));
    return (await pending).driver;
  };

  const scheduleHooks = ScheduleHooks.of(
    options.hooks ??
      createHookRegistry({ plugins: options.plugins, hookTimeout: options.hookTimeout, logger }),
  );
  const adder = createJobAdder(getDriver, schema, scheduleHooks);
  const run = async <T>(what: string, fn: (d: Driver) => Promise<T>): Promise<T> => {
    const d = await getDriver();
    return await dbCall(what, schema, () => fn(d));
  };

  const utils: WorkerUtils = {
    schema,
    get driver(): Driver {
      if (!resolved) {
        throw new SpoolError(
          "DRIVER",
          "WorkerUtils has not resolved its driver yet; await utils.getDriver() first",
        );
      }
      return resolved.driver;
    },
    logger,
    getDriver,
    ...adder,
    migrate: () => run("migrate", (d) => migrate(d, { schema, logger })),
    async getJob(id) {
      const checked = checkId(id);
      const row = await run("getJob", (d) => jobGet(d, schema, checked));
      return row ? jobFromRow(row) : null;
    },
    async getJobByKey(key) {
      checkString(key, "key");
      const row = await run("getJobByKey", (d) => jobGetByKey(d, schema, key));
      return row ? jobFromRow(row) : null;
    },
    async removeJob(key) {
      checkString(key, "key");
      const row = await run("removeJob", (d) => jobRemove(d, schema, key));
      return row ? jobFromRow(row) : null;
    },
    async completeJobs(ids) {
      const checked = checkIds(ids);
      if (checked.length === 0) return [];
      return (await run("completeJobs", (d) => jobsComplete(d, schema, checked))).map(jobFromRow);
    },
    async permanentlyFailJobs(ids, reason) {
      const checked = checkIds(ids);
      if (reason !== undefined) checkString(reason, "reason");
      if (checked.length === 0) return [];
      const rows = await run(
        "permanentlyFailJobs",
        (d) => jobsPermanentlyFail(d, schema, checked, reason ?? null),
      );
      return rows.map(jobFromRow);
    },
    async cancelJobs(ids, cancelOptions) {
      const c = checkCancelJobs(ids, cancelOptions);
      if (c.ids.length === 0) return { cancelled: [], running: [] };
      return await run("cancelJobs", (d) => cancelWith(d, schema, { ids: c.ids }, c.reason));
    },
    async cancelJobByKey(key, cancelOptions) {
      const c = checkCancelByKey(key, cancelOptions);
      return await run("cancelJobByKey", (d) => cancelWith(d, schema, { key: c.key }, c.reason));
    },
    async rescheduleJobs(ids, rescheduleOptions) {
      const checked = checkIds(ids);
      const params = checkReschedule(rescheduleOptions);
      if (checked.length === 0) return [];
      const rows = await run("rescheduleJobs", (d) => jobsReschedule(d, schema, checked, params));
      return rows.map(jobFromRow);
    },
    async forceUnlockWorkers(workerIds) {
      const checked = checkStrings(workerIds, "workerIds");
      if (checked.length === 0) return;
      await run("forceUnlockWorkers", (d) => workersForceUnlock(d, schema, checked));
    },
    listActiveWorkers(listOptions) {
      return run("listActiveWorkers", (d) => listActiveWorkers(d, schema, listOptions));
    },
    sweepStaleWorkers(sweepOptions) {
      return run("sweepStaleWorkers", (d) => sweepStaleWorkers(d, schema, sweepOptions));
    },
    async cleanup(cleanupOptions) {
      const plan = checkCleanup(cleanupOptions);
      return await run("cleanup", async (d) => {
        // Jobs first, so the GC steps also free what those jobs referred to.
        const deletedJobs = plan.tasks.has("DELETE_PERMAFAILED_JOBS")
          ? await jobsDeletePermafailed(d, schema)
          : 0;
        const deletedTaskIdentifiers = plan.tasks.has("GC_TASK_IDENTIFIERS")
          ? await tasksGc(d, schema, plan.keep)
          : 0;
        const deletedJobQueues = plan.tasks.has("GC_JOB_QUEUES") ? await jobQueuesGc(d, schema) : 0;
        logger.debug("cleanup done", { deletedJobs, deletedTaskIdentifiers, deletedJobQueues });
        return { deletedJobs, deletedTaskIdentifiers, deletedJobQueues };
      });
    },
    withTransaction(tx) {
      if (typeof tx?.query !== "function") {
        throw new ValidationError("tx", "must be a Queryable (an object with query(text, params))");
      }
      return createJobAdder(() => tx, schema, scheduleHooks);
    },
    async release() {
      if (released) return;
      released = true;
      const r = resolved ?? (pending ? await pending.catch(() => undefined) : undefined);
      if (r?.owned) await r.driver.close();
    },
    [Symbol.asyncDispose](): Promise<void> {
      return utils.release();
    },
  };
  return utils;
}
