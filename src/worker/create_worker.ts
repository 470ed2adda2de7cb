/**
 * `createWorker`: wires the options, driver, fetcher, job pool, completer,
 * notifier, stale-lock reset and signal handling into a {@linkcode Worker}.
 *
 * Lifecycle: "ready" → `run()`/`runOnce()` → `stop()` → "stopped". `run()`
 * migrates, subscribes (LISTEN), starts the lock reset and the pool, and
 * resolves once `stop()` (or a signal, or a breaking migration elsewhere)
 * has shut everything down and the worker's own pool is closed.
 * `runOnce()` may be called repeatedly. When it resolves, nothing it started
 * is left running, and a pool the worker opened from `database` is closed
 * (the next call reconnects), so a script ends by itself; the in-memory
 * default database keeps its data until `stop()`.
 *
 * @module
 */
import { resolveDriver } from "../driver/resolve.ts";
import { SpoolError } from "../errors.ts";
import { HIGHEST_KNOWN_MIGRATION, migrate } from "../migrate/migrate.ts";
import { detectRuntime } from "../runtime/detect.ts";
import { jobsReturn } from "../sql/jobs_return.ts";
import { ExtensionMap } from "../task/extension.ts";
import { createWorkerUtils, type WorkerUtils } from "../utils/worker_utils.ts";
import { createCronScheduler } from "../cron/scheduler.ts";
import { Completer } from "./completer.ts";
import { GuardedFetcher, HeldJobs } from "./held_jobs.ts";
import { jobsReclaim } from "../sql/jobs_reclaim.ts";
import { RecoveryService } from "../recovery/service.ts";
import { workerMetadata } from "../recovery/metadata.ts";
import { LockResetService } from "./lock_reset.ts";
import { Notifier } from "./notifier.ts";
import { resolveWorkerOptions } from "./options.ts";
import { JobPool } from "./pool.ts";
import { buildTaskRegistry } from "./registry.ts";
import { SignalHandlers } from "./shutdown.ts";
import { createHookRegistry } from "../hooks/plugins.ts";
import { CronHooks } from "../hooks/schedule_hooks.ts";
import { WorkerHooks } from "../hooks/worker_hooks.ts";
import type { Worker, WorkerOptions, WorkerState } from "./types.ts";
import { CancelListener, writeWithRetries } from "./cancel_listener.ts";
import { LockCheck } from "./lock_check.ts";
import { JobAbortedError } from "./job_abort.ts";
import { jobCancelRunning } from "../sql/jobs_cancel.ts";
import { cancelWith } from "../utils/cancel_jobs.ts";

/** After the grace period, how long shutdown keeps retrying outcome writes that fail. */
const SHUTDOWN_FLUSH_TIMEOUT_MS = 10_000;

function newWorkerId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return `spool_worker_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Create a worker for `options.tasks`. Options are checked first (each bad
 * field is one `ValidationError` naming it; two tasks with one identifier
 * are an error too); then the driver is resolved. Nothing is fetched until
 * `run()` or `runOnce()`.
 *
 * Signals: while running, SIGINT/SIGTERM start a graceful shutdown (a second
 * signal skips the grace period) unless `noHandleSignals` is set. Spool never
 * exits the process: once the worker has stopped and closed its pool, the
 * process ends when nothing else keeps it alive.
 *
 * @example
 * ```ts ignore
 * import { createWorker, defineTask } from "@spool/worker";
 * import { z } from "zod";
 *
 * const hello = defineTask({
 *   identifier: "hello",
 *   payload: z.object({ name: z.string() }),
 *   run: (payload, ctx) => ctx.logger.info(`Hello, ${payload.name}`),
 * });
 * const worker = await createWorker({
 *   database: "postgres://postgres@127.0.0.1:5432/test",
 *   tasks: [hello],
 *   concurrency: 4,
 * });
 * await worker.utils.addJob(hello, { name: "Ada" });
 * await worker.run(); // until SIGINT/SIGTERM or worker.stop()
 * ```
 */
export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const o = resolveWorkerOptions(options);
  const { plugins, hookTimeout } = options; // checked by createHookRegistry
  const hookRegistry = createHookRegistry({
    plugins,
    hookTimeout,
    logger: o.logger,
    clock: o.clock,
  });
  const registry = buildTaskRegistry(o.tasks);
  const extensions = new ExtensionMap(o.extensions);
  const { driver, owned, suspend } = await resolveDriver({
    database: o.database,
    driver: o.driver,
    maxPoolSize: o.database !== undefined ? o.maxPoolSize : undefined,
  });
  const id = newWorkerId();
  const { schema, logger, clock } = o;
  const localClock = o.useLocalTime ? clock : undefined;
  const utils: WorkerUtils = createWorkerUtils({ driver, schema, logger, hooks: hookRegistry });
  const hooks = hookRegistry.empty ? undefined : new WorkerHooks(hookRegistry, id, clock);

  // Jobs this worker knows it holds; a fetch whose answer was lost is reclaimed (held_jobs.ts).
  const held = new HeldJobs();
  const fetcher = new GuardedFetcher({
    db: driver,
    schema,
    workerId: id,
    registry,
    forbiddenFlags: o.forbiddenFlags,
    localClock,
    held,
    reclaim: (knownIds) => jobsReclaim(driver, { schema, workerId: id, knownIds }),
    logger,
  });
  const sqlState = (error: unknown) => driver.sqlState(error);
  const completer = new Completer({
    db: driver,
    schema,
    workerId: id,
    logger,
    clock,
    localClock,
    completeJobBatchDelay: o.throughput.completeJobBatchDelay,
    failJobBatchDelay: o.throughput.failJobBatchDelay,
    held,
  });
  const pool = new JobPool({
    concurrency: o.concurrency,
    pollInterval: o.pollInterval,
    fetcher,
    completer,
    registry,
    context: { adder: utils, db: driver, logger, extensions, workerId: id },
    logger,
    clock,
    backoff: o.backoff,
    localQueue: o.throughput.localQueue,
    hooks,
    jobTimeout: o.jobTimeout,
    cancelRunning: (jobId, message) =>
      writeWithRetries(
        () => jobCancelRunning(driver, { schema, workerId: id, id: jobId, message }),
        {
          clock,
          logger,
          what: `record job ${jobId} as cancelled`,
          sqlState,
        },
      ).finally(() => held.release([jobId])),
    cancelWaiting: (jobId, reason) => cancelWith(driver, schema, { ids: [jobId] }, reason),
    returnJobs: (ids, r) =>
      jobsReturn(driver, {
        schema,
        workerId: id,
        ids,
        retryDelayMs: r.retryDelayMs,
        message: r.message,
        now: localClock ? new Date(localClock.now()) : undefined,
      }).catch((error) => {
        // Not handed back: the next fetch hands back whatever this worker holds unknowingly.
        fetcher.markSuspect();
        throw error;
      }).finally(() => held.release(ids)),
  });
  // After a reconnect: abort the jobs whose lock this worker lost (see lock_check.ts).
  const lockCheck = new LockCheck({
    db: driver,
    schema,
    workerId: id,
    logger,
    heldIds: () => held.ids(),
    abortJob: (jobId, reason) => pool.abortJob(jobId, reason),
  });
  const lockReset = new LockResetService({ db: driver, schema, logger, clock, localClock });
  const recovery = new RecoveryService({
    db: driver,
    schema,
    workerId: id,
    logger,
    clock,
    options: o.recovery,
    sqlState,
    onSweep: hooks && ((result) => hooks.swept(result)),
    metadata: workerMetadata({
      runtime: o.runtime ?? detectRuntime(),
      concurrency: o.concurrency,
      tasks: registry.keys(),
      now: clock.now(),
      staleThresholdMs: o.recovery.staleThreshold,
    }),
    fence: { trip: () => pool.fence(), recover: () => pool.unfence() },
    checkLocks: (why) => void lockCheck.run(why),
  });
  const cancels = new CancelListener({
    driver,
    workerId: id,
    logger,
    cancel: (ids, reason) => {
      for (const jobId of ids) pool.abortJob(jobId, JobAbortedError.cancelled(jobId, reason));
    },
    reconnected: () => void lockCheck.run("the LISTEN connection was re-established"),
  });
  const cronScheduler = o.cronItems.length === 0 ? undefined : createCronScheduler({
    driver,
    schema,
    items: o.cronItems,
    clock,
    logger,
    hooks: CronHooks.of(hookRegistry, logger),
  });

  let state: WorkerState = "ready";
  let migrated = false;
  let stopPromise: Promise<void> | undefined;
  const force = new AbortController();
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));

  const notifier = new Notifier(driver, logger, {
    wake: () => pool.nudge(),
    error: hooks && ((error) => hooks.error("listen", error)),
    breakingMigration: (n, other) => {
      // Spool names the schema it migrated; one on another schema cannot affect this worker.
      if (other !== undefined && other !== schema) {
        logger.debug(
          `Ignoring worker:migrate for schema "${other}" (this worker uses "${schema}")`,
        );
        return;
      }
      // A breaking migration this Spool knows (e.g. #1 when some other schema on the database is
      // installed) cannot make it incompatible; only a newer one can.
      if (n !== undefined && n <= HIGHEST_KNOWN_MIGRATION) {
        logger.debug(`Ignoring worker:migrate for known breaking migration #${n}`);
        return;
      }
      logger.error(
        `A breaking migration${n === undefined ? "" : ` (#${n})`} was applied to schema ` +
          `"${schema}" by another process; this worker may no longer match the schema, ` +
          "so it is shutting down gracefully. Upgrade Spool and restart it.",
      );
      void worker.stop();
    },
  });
  const signals = o.noHandleSignals ? undefined : new SignalHandlers(
    o.runtime ?? detectRuntime(),
    logger,
    { graceful: () => void worker.stop(), force: () => force.abort() },
  );

  const ensureMigrated = async () => {
    if (migrated) return;
    await migrate(driver, { schema, logger });
    migrated = true;
  };

  const assertReady = (what: string) => {
    if (state === "running") {
      throw new SpoolError("SHUTDOWN", `Cannot ${what}: the worker is already running`);
    }
    if (state !== "ready") {
      throw new SpoolError("SHUTDOWN", `Cannot ${what}: the worker was stopped; create a new one`);
    }
  };

  const shutdown = async () => {
    logger.debug(`Worker ${id} stopping`);
    await Promise.all([
      lockReset.stop(),
      notifier.stop(),
      cronScheduler?.stop(),
      recovery.stopSweeping(),
    ]);
    const cancelAbandon = completer.abandonAfter(o.gracePeriod + SHUTDOWN_FLUSH_TIMEOUT_MS);
    await pool.stop({
      gracePeriod: o.gracePeriod,
      interruptedJobRetryDelay: o.interruptedJobRetryDelay,
      force: force.signal,
    });
    cancelAbandon();
    await cancels.stop(); // cancels still reach jobs running through the grace period
    // Deregisters only when nothing is left locked (otherwise a sweeper recovers it later).
    await recovery.stop();
    signals?.remove();
    await hooks?.workerShutdown(schema);
    if (owned) {
      try {
        await driver.close();
      } catch (error) {
        logger.warn("Closing the worker's pool failed", { error: String(error) });
      }
    }
    state = "stopped";
    logger.info(`Worker ${id} stopped`);
    resolveStopped();
  };

  const worker: Worker = {
    id,
    utils,
    async run(): Promise<void> {
      assertReady("run()");
      state = "running";
      signals?.install();
      try {
        await ensureMigrated();
        if (state !== "running") return await stopped;
        await fetcher.taskIds();
        await Promise.all([notifier.start(), cancels.start()]);
        if (state !== "running") return await stopped;
        await recovery.start(); // registered before the first fetch
        lockReset.start();
        hooks?.workerStart(schema, o.concurrency, [...registry.keys()]);
        await cronScheduler?.start();
        pool.start();
        logger.info(
          `Worker ${id} started: ${registry.size} task(s), concurrency ${o.concurrency}, ` +
            `schema "${schema}"`,
        );
      } catch (error) {
        await worker.stop();
        throw error;
      }
      await stopped;
    },
    async runOnce(): Promise<void> {
      assertReady("runOnce()");
      state = "running";
      signals?.install();
      try {
        await ensureMigrated();
        if (state !== "running") return;
        await lockReset.runOnce();
        if (state !== "running") return;
        await recovery.startOnce();
        await cancels.start();
        hooks?.workerStart(schema, o.concurrency, [...registry.keys()]);
        await pool.runOnce();
      } finally {
        await cancels.stop();
        await recovery.stop();
        if (state === "running") {
          signals?.remove();
          state = "ready";
          // A pool this worker opened from `database` must not keep the process alive
          // after the pass; it reconnects on the next call.
          await suspend?.();
        }
      }
    },
    stop(): Promise<void> {
      if (stopPromise) return stopPromise;
      state = "stopping";
      stopPromise = shutdown();
      return stopPromise;
    },
    status() {
      const beat = recovery.heartbeat?.lastBeatAt ?? null;
      return {
        state,
        listening: notifier.listening,
        lastHeartbeatAt: beat === null ? null : new Date(beat),
        heartbeatInterval: recovery.heartbeat ? o.recovery.heartbeatInterval : null,
      };
    },
    [Symbol.asyncDispose](): Promise<void> {
      return worker.stop();
    },
  };
  return worker;
}
