/**
 * Spool: a PostgreSQL job queue for Deno and Bun, sharing its database schema
 * with graphile-worker.
 *
 * @example
 * ```ts ignore
 * import { createWorker, defineTask } from "@spool/worker";
 * import { z } from "zod";
 *
 * const hello = defineTask({
 *   identifier: "hello",
 *   payload: z.object({ name: z.string() }),
 *   run(payload, ctx) {
 *     ctx.logger.info(`Hello, ${payload.name}`);
 *   },
 * });
 *
 * const worker = await createWorker({ database: "postgres://localhost/app", tasks: [hello] });
 * await worker.utils.addJob(hello, { name: "Ada" });
 * await worker.run();
 * ```
 *
 * @module
 */
export * from "./src/errors.ts";
export * from "./src/logger.ts";
export type * from "./src/driver/types.ts";
export {
  type ResolvedDriver,
  resolveDriver,
  type ResolveDriverOptions,
} from "./src/driver/resolve.ts";
export type * from "./src/runtime/types.ts";
export { systemClock } from "./src/runtime/clock.ts";
export { detectRuntime } from "./src/runtime/detect.ts";
export {
  BREAKING_MIGRATIONS,
  HIGHEST_KNOWN_MIGRATION,
  migrate,
  type MigrateOptions,
  type MigrateResult,
} from "./src/migrate/migrate.ts";
export type * from "./src/utils/types.ts";
export {
  createWorkerUtils,
  type WorkerUtils,
  type WorkerUtilsOptions,
} from "./src/utils/worker_utils.ts";
export type * from "./src/task/types.ts";
export { defineTask, type DefineTaskOptions } from "./src/task/define_task.ts";
export { defineBatchTask, type DefineBatchTaskOptions } from "./src/task/define_batch_task.ts";
export {
  BatchResult,
  type BatchResultHelpers,
  type BatchRunResult,
} from "./src/task/batch_result.ts";
export { extension, type ExtensionKey, type ProvidedExtension } from "./src/task/extension.ts";
export * from "./src/cron/mod.ts";
export { createWorker } from "./src/worker/create_worker.ts";
export { JobAbortedError, type JobAbortKind } from "./src/worker/job_abort.ts";
export type { CancelJobsOptions, CancelJobsResult } from "./src/utils/cancel_jobs.ts";
export type {
  AnyTaskDefinition,
  BackoffFunction,
  ForbiddenFlags,
  Worker,
  WorkerOptions,
  WorkerState,
  WorkerStatus,
} from "./src/worker/types.ts";
export type { LocalQueueOptions, RefetchDelayOptions } from "./src/worker/local_queue.ts";
export * from "./src/hooks/mod.ts";
export {
  type ActiveWorker,
  INFRASTRUCTURE_RESILIENT_FLAG,
  type ListActiveWorkersOptions,
  RECOVERY_DEFAULTS,
  type SweepStaleWorkersOptions,
  type SweepStaleWorkersResult,
} from "./src/utils/workers_admin.ts";
export type { RecoveryOptions } from "./src/recovery/options.ts";
export { RECOVERED_MESSAGE } from "./src/sql/workers_sweep.ts";
export { SPOOL_VERSION } from "./src/version.ts";
