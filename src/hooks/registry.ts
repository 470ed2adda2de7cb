/**
 * The hook registry: handlers by name, which names have any (computed once,
 * so callers skip all hook work for names without handlers), and the rules
 * that keep a misbehaving hook from hurting the worker:
 *
 * - Observers are called synchronously, in registration order, and never
 *   awaited; a throw or a rejected promise is logged and otherwise ignored.
 * - Interceptors run one after another and are awaited, each for at most
 *   `hookTimeout` ms. A throw, a timeout or a result that is not one of the
 *   documented values counts as a refusal (`{ fail }` with the error).
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import { composeRunWrappers } from "./run_wrapper.ts";
import type {
  BeforeJobRunContext,
  BeforeJobScheduleContext,
  HookEventName,
  HookEvents,
  HookJobOptions,
  HookName,
  RunWrapper,
} from "./types.ts";

/** One registered handler and the plugin that registered it. */
export interface HookEntry {
  plugin: string;
  // deno-lint-ignore no-explicit-any
  fn: (ctx: any) => unknown;
}

/** The outcome of the `beforeJobRun` chain. */
export type RunVerdict = undefined | { skip: true; plugin: string } | {
  fail: string;
  plugin: string;
  cause?: unknown;
};

/** The outcome of the `beforeJobSchedule` chain. */
export type ScheduleVerdict =
  | { payload: unknown; options: HookJobOptions | undefined }
  | { skip: true; plugin: string }
  | { fail: string; plugin: string; cause?: unknown };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === "string" ? error : String(error);
}

const TIMED_OUT = Symbol("timed out");

/** Registered hooks of one worker (or WorkerUtils); see the module doc. */
export class HookRegistry {
  /** Milliseconds an interceptor (or a `worker:shutdown` observer) may take. */
  readonly timeout: number;
  /** Names of the plugins, in order. */
  readonly plugins: readonly string[];
  #entries: ReadonlyMap<HookName, readonly HookEntry[]>;
  #logger: Logger;
  #clock: Clock;

  /** Use `createHookRegistry`, which checks the plugins and builds this. @internal */
  constructor(
    entries: ReadonlyMap<HookName, readonly HookEntry[]>,
    plugins: readonly string[],
    options: { timeout: number; logger: Logger; clock: Clock },
  ) {
    this.#entries = entries;
    this.plugins = plugins;
    this.timeout = options.timeout;
    this.#logger = options.logger;
    this.#clock = options.clock;
  }

  /** True when no hook at all is registered. */
  get empty(): boolean {
    return this.#entries.size === 0;
  }

  /** Milliseconds now, on the registry's clock (for the durations hooks report). */
  now(): number {
    return this.#clock.now();
  }

  /** The composed `aroundJobRun` wrappers, or undefined when none is registered. */
  runWrapper(): RunWrapper | undefined {
    const list = this.#entries.get("aroundJobRun");
    return list ? composeRunWrappers(list, this.#logger) : undefined;
  }

  /** Whether any handler is registered for `name`. */
  has(name: HookName): boolean {
    return this.#entries.has(name);
  }

  /** Tell the observers of `event`; never throws, never waits. */
  emit<E extends HookEventName>(event: E, ctx: HookEvents[E]): void {
    const list = this.#entries.get(event);
    if (!list) return;
    for (const entry of list) {
      try {
        const result = entry.fn(ctx);
        if (result instanceof Promise) {
          result.catch((error) => this.#observerFailed(event, entry, error));
        }
      } catch (error) {
        this.#observerFailed(event, entry, error);
      }
    }
  }

  /** Like {@linkcode emit}, then wait for the observers, each for at most `timeout` ms. */
  async emitAndWait<E extends HookEventName>(event: E, ctx: HookEvents[E]): Promise<void> {
    const list = this.#entries.get(event);
    if (!list) return;
    await Promise.all(list.map(async (entry) => {
      try {
        const result = await this.#bounded(entry.fn(ctx));
        if (result === TIMED_OUT) {
          this.#logger.warn(
            `Hook "${event}" of plugin "${entry.plugin}" did not finish within ` +
              `${this.timeout} ms; not waiting for it any longer`,
          );
        }
      } catch (error) {
        this.#observerFailed(event, entry, error);
      }
    }));
  }

  /** Run the `beforeJobRun` chain; never throws. */
  async beforeJobRun(ctx: BeforeJobRunContext): Promise<RunVerdict> {
    const list = this.#entries.get("beforeJobRun");
    if (!list) return undefined;
    for (const entry of list) {
      const what = `beforeJobRun hook of plugin "${entry.plugin}"`;
      let result: unknown;
      try {
        result = await this.#bounded(entry.fn(ctx));
      } catch (error) {
        this.#interceptorFailed(what, error, `job ${ctx.job.id}`);
        return {
          fail: `${what} threw: ${describeError(error)}`,
          plugin: entry.plugin,
          cause: error,
        };
      }
      if (result === TIMED_OUT) {
        const fail = `${what} did not finish within ${this.timeout} ms`;
        this.#logger.error(fail, { jobId: ctx.job.id });
        return { fail, plugin: entry.plugin };
      }
      if (result === undefined || result === null) continue;
      if (isObject(result)) {
        if (typeof result.fail === "string") return { fail: result.fail, plugin: entry.plugin };
        if (result.skip === true) return { skip: true, plugin: entry.plugin };
        if (result.fail === undefined && !result.skip) continue; // e.g. { skip: false }
      }
      const fail = `${what} returned ${safeDescribe(result)}; ` +
        "expected undefined, { skip: true } or { fail: reason }";
      this.#logger.error(fail, { jobId: ctx.job.id });
      return { fail, plugin: entry.plugin };
    }
    return undefined;
  }

  /** Run the `beforeJobSchedule` chain; never throws. */
  async beforeJobSchedule(ctx: BeforeJobScheduleContext): Promise<ScheduleVerdict> {
    let payload: unknown = ctx.payload;
    let options: HookJobOptions | undefined = ctx.options;
    const list = this.#entries.get("beforeJobSchedule");
    if (!list) return { payload, options };
    for (const entry of list) {
      const what = `beforeJobSchedule hook of plugin "${entry.plugin}"`;
      let result: unknown;
      try {
        result = await this.#bounded(entry.fn({ ...ctx, payload, options }));
      } catch (error) {
        this.#interceptorFailed(what, error, `job "${ctx.identifier}"`);
        return {
          fail: `${what} threw: ${describeError(error)}`,
          plugin: entry.plugin,
          cause: error,
        };
      }
      if (result === TIMED_OUT) {
        const fail = `${what} did not finish within ${this.timeout} ms`;
        this.#logger.error(fail, { task: ctx.identifier });
        return { fail, plugin: entry.plugin };
      }
      if (result === undefined || result === null) continue;
      if (isObject(result)) {
        if (typeof result.fail === "string") return { fail: result.fail, plugin: entry.plugin };
        if (result.skip === true) return { skip: true, plugin: entry.plugin };
        if (result.fail === undefined && !result.skip) {
          if ("payload" in result && result.payload !== undefined) payload = result.payload;
          if ("options" in result && result.options !== undefined) {
            if (!isObject(result.options)) {
              const fail = `${what} returned options that are not an object`;
              return { fail, plugin: entry.plugin };
            }
            options = result.options as HookJobOptions;
          }
          continue;
        }
      }
      const fail = `${what} returned ${safeDescribe(result)}; expected undefined, ` +
        "{ payload, options }, { skip: true } or { fail: reason }";
      this.#logger.error(fail, { task: ctx.identifier });
      return { fail, plugin: entry.plugin };
    }
    return { payload, options };
  }

  /** Await `value` for at most `timeout` ms (sync values pass straight through). */
  async #bounded(value: unknown): Promise<unknown> {
    if (!(value instanceof Promise)) return value;
    let cancel: (() => void) | undefined;
    const timer = new Promise<typeof TIMED_OUT>((resolve) => {
      cancel = this.#clock.setTimeout(() => resolve(TIMED_OUT), this.timeout);
    });
    try {
      return await Promise.race([value, timer]);
    } finally {
      cancel?.();
    }
  }

  #observerFailed(event: string, entry: HookEntry, error: unknown): void {
    this.#logger.error(`Hook "${event}" of plugin "${entry.plugin}" threw; ignoring it`, {
      error: describeError(error),
    });
  }

  #interceptorFailed(what: string, error: unknown, subject: string): void {
    this.#logger.error(`${what} threw for ${subject}`, { error: describeError(error) });
  }
}

function safeDescribe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
