/**
 * Lifecycle hooks and plugins: what `mod.ts` re-exports from this layer.
 *
 * @module
 */
export type * from "./types.ts";
export { JobRejectedError, JobSkippedError } from "./errors.ts";
export {
  createHookRegistry,
  DEFAULT_HOOK_TIMEOUT,
  definePlugin,
  hookNames,
  type HookRegistryOptions,
} from "./plugins.ts";
export type { HookRegistry, RunVerdict, ScheduleVerdict } from "./registry.ts";
