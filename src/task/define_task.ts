/**
 * `defineTask`: a typed task from an identifier, a zod payload schema and a
 * run function.
 *
 * @module
 */
import type { z } from "zod";
import { checkDefinition } from "./_checks.ts";
import type { TaskContext, TaskDefinition } from "./types.ts";

/** What {@linkcode defineTask} takes. */
export interface DefineTaskOptions<S extends z.ZodType> {
  /** The `task_identifier` stored with each job (1–128 characters). */
  identifier: string;
  /** zod schema of the payload; checked when a job is added and before it runs. */
  payload: S;
  /** Runs one job. Returning completes it; throwing fails it (it is retried with backoff). */
  run: (payload: z.output<S>, ctx: TaskContext) => unknown | Promise<unknown>;
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
  return Object.freeze({
    kind: "task" as const,
    identifier,
    payload: schema as z.ZodType<z.output<S>>,
    run: run as TaskDefinition<z.output<S>>["run"],
  });
}
