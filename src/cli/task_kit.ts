/**
 * What a tasks module's factory receives: Spool's task API and zod, from
 * the same copy the CLI runs. A compiled `spool` binary loads a tasks
 * module at run time from disk, where `@spool/worker` and `zod` may not be
 * resolvable (and a second copy would not share `BatchResult` or extension
 * keys with the worker); a factory needs no imports at all.
 *
 * @example
 * ```ts ignore
 * // tasks.ts, for `spool run --tasks ./tasks.ts` (also from a compiled binary)
 * import type { TaskKit } from "@spool/worker/cli";
 * export default ({ defineTask, z }: TaskKit) => [
 *   defineTask({
 *     identifier: "hello",
 *     payload: z.object({ name: z.string() }),
 *     run: (payload, ctx) => ctx.logger.info(`Hello, ${payload.name}`),
 *   }),
 * ];
 * ```
 *
 * @module
 */
import { z } from "zod";
import { defineTask } from "../task/define_task.ts";
import { defineBatchTask } from "../task/define_batch_task.ts";
import { BatchResult } from "../task/batch_result.ts";
import { extension } from "../task/extension.ts";
import { cron } from "../cron/builder.ts";

/** The kit passed to a tasks module's default-export factory. */
export interface TaskKit {
  /** {@linkcode defineTask} */
  defineTask: typeof defineTask;
  /** {@linkcode defineBatchTask} */
  defineBatchTask: typeof defineBatchTask;
  /** {@linkcode BatchResult} */
  BatchResult: typeof BatchResult;
  /** {@linkcode extension} */
  extension: typeof extension;
  /** Typed schedules. */
  cron: typeof cron;
  /** zod, for payload schemas. */
  z: typeof z;
}

/** The kit itself. */
export const taskKit: TaskKit = { defineTask, defineBatchTask, BatchResult, extension, cron, z };
