/**
 * `aroundJobRun`: the wrappers plugins put around a task's execution, composed
 * once per worker (the first plugin's wrapper is the outermost). The job's
 * outcome is always the task's own: a wrapper cannot turn a failure into a
 * success or the reverse, it can only fail the attempt by refusing to run it
 * (throwing before `run()`, or returning without calling it).
 *
 * @module
 */
import { SpoolError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { HookEntry } from "./registry.ts";
import type { BeforeJobRunContext, RunWrapper } from "./types.ts";

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === "string" ? error : String(error);
}

async function callWrapper(
  entry: HookEntry,
  ctx: BeforeJobRunContext,
  inner: () => Promise<void>,
  logger: Logger,
): Promise<void> {
  let task: Promise<void> | undefined;
  const run = (): Promise<void> => {
    if (task) return task;
    task = inner();
    task.catch(() => {}); // handled below, even when the wrapper drops it
    return task;
  };
  const what = `aroundJobRun hook of plugin "${entry.plugin}"`;
  try {
    await (entry.fn as RunWrapper)(ctx, run);
  } catch (error) {
    if (!task) {
      throw new SpoolError(
        "HOOK_FAILED",
        `${what} threw before calling run(): ${describeError(error)}`,
        { cause: error },
      );
    }
    const outcome = await task.then(() => undefined, (reason) => ({ reason }));
    if (!outcome || outcome.reason !== error) {
      logger.error(`${what} threw after run(); ignoring it`, {
        jobId: ctx.job.id,
        error: describeError(error),
      });
    }
  }
  if (!task) throw new SpoolError("HOOK_FAILED", `${what} returned without calling run()`);
  await task;
}

/** Compose the `aroundJobRun` wrappers of `entries` (in order, the first outermost). */
export function composeRunWrappers(entries: readonly HookEntry[], logger: Logger): RunWrapper {
  let wrapped: RunWrapper = (_ctx, run) => run();
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    const inner = wrapped;
    wrapped = (ctx, run) => callWrapper(entry, ctx, () => inner(ctx, run), logger);
  }
  return wrapped;
}
