/**
 * `defineTask`: a typed task from an identifier, a zod payload schema and a
 * run function.
 *
 * @module
 */
import type { z } from "zod";
import { checkDefinition } from "./_checks.ts";
import { checkTaskOptions } from "./_task_options.ts";
import type { TaskContext, TaskDefinition } from "./types.ts";

/** What {@linkcode defineTask} takes. */
export interface DefineTaskOptions<S extends z.ZodType> {
  /** The `task_identifier` stored with each job (1–128 characters). */
  identifier: string;
  /** zod schema of the payload; checked when a job is added and before it runs. */
  payload: S;
  /** Runs one job. Returning completes it; throwing fails it (it is retried with backoff). */
  run: (payload: z.output<S>, ctx: TaskContext) => unknown | Promise<unknown>;
  /**
   * Time a job may run: a duration (`"30s"`, `"5m"`), milliseconds, or `"none"`
   * (no timeout even when the worker sets `jobTimeout`). When it expires the
   * job's `ctx.signal` is aborted and the attempt fails with "timed out after
   * 30 s" (retried as usual). Default: the worker's `jobTimeout`.
   */
  timeout?: string | number;
  /** Attempts before a job of this task is permanently failed (job options win). */
  maxAttempts?: number;
  /** Retry delay in seconds after a failure (instead of the worker's `backoff`). */
  backoff?: (attempts: number) => number;
  /** Named queue for the jobs of this task (job options win). */
  queueName?: string;
  /** Priority of the jobs of this task; lower runs first (job options win). */
  priority?: number;
}

/**
 * Define a typed task. The result is frozen and can be passed to
 * `createWorker({ tasks })` and to `utils.addJob(task, payload)`.
 *
 * @example
 * ```ts
 * import { defineTask } from "@spool/worker";
 * import { z } from "zod";
 *
 * export const sendEmail = defineTask({
 *   identifier: "send_email",
 *   payload: z.object({ to: z.string(), subject: z.string() }),
 *   timeout: "30s", // ctx.signal is aborted after 30 s; the attempt fails and is retried
 *   maxAttempts: 5,
 *   async run(payload, ctx) {
 *     ctx.logger.info(`sending to ${payload.to}`);
 *   },
 * });
 * ```
 */
export function defineTask<S extends z.ZodType>(
  options: DefineTaskOptions<S>,
): TaskDefinition<z.output<S>> {
  const { identifier, schema, run } = checkDefinition(
    options,
    "defineTask",
    "payload",
    "a zod schema",
  );
  const settings = checkTaskOptions(options as unknown as Record<string, unknown>, identifier);
  return Object.freeze({
    kind: "task" as const,
    identifier,
    payload: schema as z.ZodType<z.output<S>>,
    run: run as TaskDefinition<z.output<S>>["run"],
    ...settings,
  });
}
