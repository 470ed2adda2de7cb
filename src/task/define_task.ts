/**
 * `defineTask`: a typed task from an identifier, a zod payload schema and a
 * run function.
 *
 * @module
 */
import type { z } from "zod";
import { ValidationError } from "../errors.ts";
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
  if (typeof options !== "object" || options === null) {
    throw new ValidationError("defineTask", "expects { identifier, payload, run }");
  }
  const { identifier, payload, run } = options;
  if (typeof identifier !== "string" || identifier.length === 0) {
    throw new ValidationError("identifier", "must be a non-empty string of at most 128 characters");
  }
  if ([...identifier].length > 128) {
    throw new ValidationError(
      "identifier",
      `must be at most 128 characters (got ${[...identifier].length})`,
    );
  }
  if (
    typeof payload !== "object" || payload === null ||
    typeof (payload as { safeParse?: unknown }).safeParse !== "function"
  ) {
    throw new ValidationError("payload", `must be a zod schema (task "${identifier}")`);
  }
  if (typeof run !== "function") {
    throw new ValidationError("run", `must be a function (task "${identifier}")`);
  }
  return Object.freeze({
    kind: "task" as const,
    identifier,
    payload: payload as z.ZodType<z.output<S>>,
    run: run as TaskDefinition<z.output<S>>["run"],
  });
}
