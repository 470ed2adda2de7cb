/**
 * Plugins: checking them and building the {@linkcode HookRegistry} of a
 * worker or WorkerUtils. A bad plugin (not an object, no name, a duplicate
 * name, an unknown hook name, a handler that is not a function, a `setup`
 * that throws or is async) is one {@linkcode ValidationError} at creation.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { systemClock } from "../runtime/clock.ts";
import type { Clock } from "../runtime/types.ts";
import { type HookEntry, HookRegistry } from "./registry.ts";
import type { HookApi, HookHandlers, HookName, Plugin } from "./types.ts";

/** Default `hookTimeout`: milliseconds an interceptor may take. */
export const DEFAULT_HOOK_TIMEOUT = 5000;

const HOOK_NAMES: ReadonlySet<string> = new Set<HookName>([
  "worker:start",
  "worker:shutdown",
  "worker:error",
  "job:fetch",
  "worker:fetch",
  "job:added",
  "job:start",
  "job:complete",
  "job:fail",
  "job:retry",
  "cron:tick",
  "cron:scheduled",
  "localQueue:refetchDelay:start",
  "localQueue:refetchDelay:abort",
  "localQueue:refetchDelay:expired",
  "localQueue:return",
  "recovery:sweep",
  "beforeJobRun",
  "beforeJobSchedule",
  "aroundJobRun",
]);

/** The hook names a plugin can register (observer events and interceptors). */
export function hookNames(): string[] {
  return [...HOOK_NAMES];
}

/** Options of {@linkcode createHookRegistry}. */
export interface HookRegistryOptions {
  /** Plugins, in order (their hooks run in this order). */
  plugins?: readonly Plugin[];
  /** Milliseconds an interceptor may take. @default {5000} */
  hookTimeout?: number;
  /** Where hook errors are logged. @default {silentLogger} */
  logger?: Logger;
  /** Clock for the timeouts. @default {systemClock} */
  clock?: Clock;
}

const NAME_MAX = 100;

/**
 * Identity function that types a plugin (handy for the `hooks` form, whose
 * handlers then get typed contexts).
 *
 * @example
 * ```ts
 * import { definePlugin } from "@spool/worker";
 * export const audit = definePlugin({
 *   name: "audit",
 *   hooks: {
 *     "job:fail": (ctx) => console.warn(`job ${ctx.job.id} failed: ${ctx.error}`),
 *     beforeJobRun: (ctx) => ctx.job.attempts > 10 ? { fail: "too many attempts" } : undefined,
 *   },
 * });
 * ```
 */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}

function checkHandler(name: unknown, fn: unknown, field: string): HookName {
  if (typeof name !== "string" || !HOOK_NAMES.has(name)) {
    throw new ValidationError(
      field,
      `unknown hook ${JSON.stringify(name)}; use one of ${[...HOOK_NAMES].join(", ")}`,
    );
  }
  if (typeof fn !== "function") {
    throw new ValidationError(field, `the handler of "${name}" must be a function`);
  }
  return name as HookName;
}

/**
 * Check `plugins`, run their `setup`, and collect their hooks.
 *
 * @throws {ValidationError} naming the bad plugin field (`plugins[1].name`, …)
 * or `hookTimeout`.
 *
 * @example
 * ```ts
 * import { createHookRegistry } from "@spool/worker";
 * const hooks = createHookRegistry({
 *   plugins: [{ name: "log", hooks: { "job:start": (ctx) => console.log(ctx.job.id) } }],
 * });
 * console.log(hooks.has("job:start")); // true
 * ```
 */
export function createHookRegistry(options: HookRegistryOptions = {}): HookRegistry {
  const timeout = options.hookTimeout ?? DEFAULT_HOOK_TIMEOUT;
  if (
    typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1 ||
    timeout > 2_147_483_647
  ) {
    throw new ValidationError("hookTimeout", "must be a whole number of milliseconds, 1 or more");
  }
  const plugins: unknown = options.plugins ?? [];
  if (!Array.isArray(plugins)) {
    throw new ValidationError("plugins", "must be an array of plugins ({ name, setup, hooks })");
  }
  const entries = new Map<HookName, HookEntry[]>();
  const add = (name: HookName, plugin: string, fn: HookEntry["fn"]) => {
    const list = entries.get(name);
    if (list) list.push({ plugin, fn });
    else entries.set(name, [{ plugin, fn }]);
  };
  const names = new Map<string, number>();
  plugins.forEach((p: unknown, i: number) => {
    const field = `plugins[${i}]`;
    if (typeof p !== "object" || p === null || Array.isArray(p)) {
      throw new ValidationError(field, "must be a plugin object { name, setup?, hooks? }");
    }
    const { name, setup, hooks } = p as Record<string, unknown>;
    if (typeof name !== "string" || name.trim() === "" || name.length > NAME_MAX) {
      throw new ValidationError(
        `${field}.name`,
        `must be a non-empty string of at most ${NAME_MAX} characters`,
      );
    }
    const other = names.get(name);
    if (other !== undefined) {
      throw new ValidationError(
        `${field}.name`,
        `"${name}" is already the name of plugins[${other}]; plugin names must be unique`,
      );
    }
    names.set(name, i);
    if (setup === undefined && hooks === undefined) {
      throw new ValidationError(field, `plugin "${name}" needs a setup(api) function or hooks`);
    }
    if (setup !== undefined && typeof setup !== "function") {
      throw new ValidationError(`${field}.setup`, "must be a function (api) => void");
    }
    if (hooks !== undefined) {
      if (typeof hooks !== "object" || hooks === null || Array.isArray(hooks)) {
        throw new ValidationError(`${field}.hooks`, "must be an object of handlers by hook name");
      }
      for (const [key, fn] of Object.entries(hooks)) {
        if (fn === undefined) continue;
        add(checkHandler(key, fn, `${field}.hooks`), name, fn as HookEntry["fn"]);
      }
    }
    if (typeof setup === "function") {
      runSetup(setup as NonNullable<Plugin["setup"]>, name, field, add);
    }
  });
  return new HookRegistry(entries, [...names.keys()], {
    timeout,
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? systemClock,
  });
}

function runSetup(
  setup: NonNullable<Plugin["setup"]>,
  name: string,
  field: string,
  add: (name: HookName, plugin: string, fn: HookEntry["fn"]) => void,
): void {
  let open = true;
  const api: HookApi = {
    on<N extends HookName>(hook: N, handler: HookHandlers[N]): void {
      if (!open) {
        throw new ValidationError(
          `${field}.setup`,
          `plugin "${name}" registered "${String(hook)}" after setup returned; ` +
            "register every hook during setup",
        );
      }
      add(checkHandler(hook, handler, `${field}.setup`), name, handler as HookEntry["fn"]);
    },
  };
  let result: unknown;
  try {
    result = setup(api);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ValidationError(`${field}.setup`, `plugin "${name}" setup threw: ${message}`, {
      cause: error,
    });
  } finally {
    open = false;
  }
  if (result instanceof Promise) {
    result.catch(() => {}); // reported below instead
    throw new ValidationError(
      `${field}.setup`,
      `plugin "${name}" setup must be synchronous; do async work in a "worker:start" hook`,
    );
  }
}
