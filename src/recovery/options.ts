/**
 * The worker's `recovery` option: heartbeats and the stale-worker sweeper.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { checkStrings } from "../utils/_admin_args.ts";
import { checkInt, rejectUnknownKeys } from "../utils/job_options.ts";
import { checkBoolean, checkMillis, RECOVERY_DEFAULTS } from "../utils/workers_admin.ts";

/**
 * Dead-worker recovery settings (all durations in milliseconds). On by
 * default: a worker registers in `_private_workers`, renews its heartbeat,
 * and sweeps workers whose heartbeat went stale, so the jobs of a crashed
 * process run again within minutes instead of after the 4-hour lock reset.
 * Locks of holders that never registered (graphile-worker) are left alone
 * unless `sweepUnregistered` is set.
 */
export interface RecoveryOptions {
  /** Register, heartbeat and sweep. @default {true} */
  enabled?: boolean;
  /** How often the worker renews its heartbeat. @default {30000} */
  heartbeatInterval?: number;
  /** How often the worker looks for dead workers. @default {60000} */
  sweepInterval?: number;
  /**
   * A worker whose heartbeat is older than this is dead; at least twice
   * `heartbeatInterval`. A worker that could not renew its heartbeat for ¾ of
   * it aborts its own running jobs first (the fence). @default {300000}
   */
  staleThreshold?: number;
  /** Recovered jobs run no earlier than this after the sweep. @default {30000} */
  recoveryDelay?: number;
  /** Also recover locks of holders that never registered (see the module doc). @default {false} */
  sweepUnregistered?: boolean;
  /** Job flags that mark long-running jobs. @default {["infrastructure_resilient"]} */
  resilientFlags?: readonly string[];
  /** Threshold multiplier for workers holding a resilient job. @default {3} */
  resilientMultiplier?: number;
}

/** {@linkcode RecoveryOptions} after checking, with every default applied. */
export interface ResolvedRecoveryOptions {
  enabled: boolean;
  heartbeatInterval: number;
  sweepInterval: number;
  staleThreshold: number;
  recoveryDelay: number;
  sweepUnregistered: boolean;
  resilientFlags: readonly string[];
  resilientMultiplier: number;
}

const KEYS: ReadonlySet<string> = new Set([
  "enabled",
  "heartbeatInterval",
  "sweepInterval",
  "staleThreshold",
  "recoveryDelay",
  "sweepUnregistered",
  "resilientFlags",
  "resilientMultiplier",
]);

/**
 * Check the `recovery` option and apply defaults.
 *
 * @throws {ValidationError} naming the field (`recovery.staleThreshold`, …).
 */
export function resolveRecoveryOptions(
  input: unknown,
  field = "recovery",
): ResolvedRecoveryOptions {
  if (input === undefined) input = {};
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationError(field, "must be an object like { enabled, staleThreshold, … }");
  }
  const o = input as Record<string, unknown>;
  rejectUnknownKeys(o, KEYS, field);
  const d = RECOVERY_DEFAULTS;
  const ms = (key: string, fallback: number, min: number) =>
    o[key] === undefined ? fallback : checkMillis(o[key], `${field}.${key}`, min);
  const out: ResolvedRecoveryOptions = {
    enabled: o.enabled === undefined ? true : checkBoolean(o.enabled, `${field}.enabled`),
    heartbeatInterval: ms("heartbeatInterval", d.heartbeatInterval, 10),
    sweepInterval: ms("sweepInterval", d.sweepInterval, 10),
    staleThreshold: ms("staleThreshold", d.staleThreshold, 1),
    recoveryDelay: ms("recoveryDelay", d.recoveryDelay, 0),
    sweepUnregistered: o.sweepUnregistered === undefined
      ? d.sweepUnregistered
      : checkBoolean(o.sweepUnregistered, `${field}.sweepUnregistered`),
    resilientFlags: o.resilientFlags === undefined
      ? d.resilientFlags
      : checkStrings(o.resilientFlags, `${field}.resilientFlags`),
    resilientMultiplier: o.resilientMultiplier === undefined
      ? d.resilientMultiplier
      : checkInt(o.resilientMultiplier, `${field}.resilientMultiplier`, 1, 1000),
  };
  // The fence trips at ¾ of the threshold without a renewal (src/recovery/fence.ts); at two
  // intervals or more a healthy worker keeps a quarter of the threshold for slow renewals.
  if (out.staleThreshold < 2 * out.heartbeatInterval) {
    throw new ValidationError(
      `${field}.staleThreshold`,
      `must be at least twice recovery.heartbeatInterval (${out.heartbeatInterval} ms), ` +
        `preferably 5–10 times it: a worker aborts its jobs after 3/4 of the threshold ` +
        `without a heartbeat (got ${out.staleThreshold})`,
    );
  }
  return out;
}
