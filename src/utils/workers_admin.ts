/**
 * Worker registry administration for WorkerUtils: list registered workers,
 * sweep stale ones (or preview a sweep), plus the recovery defaults and the
 * checks shared with the worker's `recovery` option.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { ValidationError } from "../errors.ts";
import { workersList } from "../sql/workers.ts";
import { workersSweep } from "../sql/workers_sweep.ts";
import { checkStrings } from "./_admin_args.ts";
import { checkInt, describe, rejectUnknownKeys } from "./job_options.ts";

/** Job flag that marks a job as long-running: its holder gets a longer stale threshold. */
export const INFRASTRUCTURE_RESILIENT_FLAG = "infrastructure_resilient";

/**
 * Recovery defaults (graphile_worker_rs's): heartbeat every 30 s, sweep every
 * 60 s, a worker is dead after 5 min without a heartbeat, recovered jobs wait
 * 30 s, holders of resilient jobs get 3× the threshold.
 */
export const RECOVERY_DEFAULTS: {
  readonly heartbeatInterval: number;
  readonly sweepInterval: number;
  readonly staleThreshold: number;
  readonly recoveryDelay: number;
  readonly sweepUnregistered: boolean;
  readonly resilientFlags: readonly string[];
  readonly resilientMultiplier: number;
} = Object.freeze({
  heartbeatInterval: 30_000,
  sweepInterval: 60_000,
  staleThreshold: 300_000,
  recoveryDelay: 30_000,
  sweepUnregistered: false,
  resilientFlags: Object.freeze([INFRASTRUCTURE_RESILIENT_FLAG]),
  resilientMultiplier: 3,
});

const MAX_MS = 2_147_483_647;

/** A duration in whole milliseconds from `min` to 2^31-1. */
export function checkMillis(value: unknown, field: string, min = 0): number {
  return checkInt(value, field, min, MAX_MS);
}

/** A boolean. */
export function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") {
    throw new ValidationError(field, `must be true or false (got ${describe(value)})`);
  }
  return value;
}

/** A registered worker, as listed by `listActiveWorkers`. */
export interface ActiveWorker {
  /** The worker's id (what it writes to `locked_by`). */
  id: string;
  /** Last heartbeat (database time). */
  lastHeartbeatAt: Date;
  /** When the worker registered (database time). */
  startedAt: Date;
  /** What the worker reported: runtime, hostname, pid, version, concurrency, tasks, … */
  metadata: Record<string, unknown> | null;
  /** The heartbeat is older than the threshold: the worker is presumed dead. */
  isStale: boolean;
  /** Jobs the worker holds locked right now. */
  lockedJobs: number;
}

/** Options of `listActiveWorkers`. */
export interface ListActiveWorkersOptions {
  /** Milliseconds without a heartbeat after which `isStale` is true. @default {300000} */
  threshold?: number;
}

/** Options of `sweepStaleWorkers`. */
export interface SweepStaleWorkersOptions {
  /** Only report what would be recovered. @default {false} */
  dryRun?: boolean;
  /** Milliseconds without a heartbeat after which a worker is dead. @default {300000} */
  threshold?: number;
  /** Milliseconds before recovered jobs may run again. @default {30000} */
  recoveryDelay?: number;
  /**
   * Also recover locks of holders that never registered (graphile-worker
   * processes, Spool workers with recovery off) whose newest lock is older
   * than the threshold. Off by default: those are left to the 4-hour reset.
   * @default {false}
   */
  sweepUnregistered?: boolean;
  /** Flags marking long-running jobs. @default {["infrastructure_resilient"]} */
  resilientFlags?: readonly string[];
  /** Threshold multiplier for holders of resilient jobs. @default {3} */
  resilientMultiplier?: number;
}

/** What `sweepStaleWorkers` recovered (or, in a dry run, would recover). */
export interface SweepStaleWorkersResult {
  /** False when another sweeper was running; nothing was done. Always true for a dry run. */
  swept: boolean;
  /** True for a dry run. */
  dryRun: boolean;
  /** Registered workers found dead (their rows are removed unless dry run). */
  workerIds: string[];
  /** Unregistered lock holders swept (only with `sweepUnregistered`). */
  unregisteredIds: string[];
  /** Jobs unlocked and rescheduled. */
  jobIds: string[];
  /** Named queues unlocked. */
  unlockedQueues: number;
}

const SWEEP_KEYS: ReadonlySet<string> = new Set([
  "dryRun",
  "threshold",
  "recoveryDelay",
  "sweepUnregistered",
  "resilientFlags",
  "resilientMultiplier",
]);

/** The checked parameters of a sweep. */
export interface SweepSettings {
  thresholdMs: number;
  recoveryDelayMs: number;
  sweepUnregistered: boolean;
  resilientFlags: readonly string[];
  resilientMultiplier: number;
}

/** Check `sweepStaleWorkers` options and apply the defaults. */
export function checkSweepOptions(
  options: unknown,
  field = "options",
): SweepSettings & { dryRun: boolean } {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ValidationError(field, "must be an object");
  }
  const o = options as Record<string, unknown>;
  rejectUnknownKeys(o, SWEEP_KEYS, field);
  const d = RECOVERY_DEFAULTS;
  return {
    dryRun: o.dryRun === undefined ? false : checkBoolean(o.dryRun, `${field}.dryRun`),
    thresholdMs: o.threshold === undefined
      ? d.staleThreshold
      : checkMillis(o.threshold, `${field}.threshold`, 1),
    recoveryDelayMs: o.recoveryDelay === undefined
      ? d.recoveryDelay
      : checkMillis(o.recoveryDelay, `${field}.recoveryDelay`),
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
}

/** List registered workers (see {@linkcode ActiveWorker}). */
export async function listActiveWorkers(
  db: Queryable,
  schema: string,
  options: ListActiveWorkersOptions = {},
): Promise<ActiveWorker[]> {
  if (typeof options !== "object" || options === null) {
    throw new ValidationError("options", "must be an object");
  }
  rejectUnknownKeys(options as Record<string, unknown>, new Set(["threshold"]), "options");
  const thresholdMs = options.threshold === undefined
    ? RECOVERY_DEFAULTS.staleThreshold
    : checkMillis(options.threshold, "options.threshold", 1);
  const rows = await workersList(db, { schema, thresholdMs });
  return rows.map((r) => ({
    id: r.id,
    lastHeartbeatAt: r.last_heartbeat_at,
    startedAt: r.started_at,
    metadata: r.metadata,
    isStale: r.is_stale,
    lockedJobs: r.locked_jobs,
  }));
}

/** Sweep (or preview sweeping) dead workers with checked settings. */
export async function sweepWith(
  db: Queryable,
  schema: string,
  settings: SweepSettings & { dryRun: boolean; excludeIds?: readonly string[] },
): Promise<SweepStaleWorkersResult> {
  const row = await workersSweep(db, { schema, ...settings });
  return {
    swept: row.locked,
    dryRun: settings.dryRun,
    workerIds: row.stale_ids,
    unregisteredIds: row.unregistered_ids,
    jobIds: row.job_ids,
    unlockedQueues: row.queues,
  };
}

/** Check the options, then sweep (see {@linkcode SweepStaleWorkersOptions}). */
export function sweepStaleWorkers(
  db: Queryable,
  schema: string,
  options?: SweepStaleWorkersOptions,
): Promise<SweepStaleWorkersResult> {
  return sweepWith(db, schema, checkSweepOptions(options));
}
