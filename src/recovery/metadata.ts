/**
 * What a worker reports about itself in its registry row.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import { SPOOL_VERSION } from "../version.ts";

/** Metadata stored with a registered worker (`_private_workers.metadata`). */
export interface WorkerMetadata {
  /** Always "spool", to tell Spool rows from graphile_worker_rs rows. */
  library: "spool";
  /** Spool version. */
  version: string;
  /** "deno" or "bun" (undefined when unknown). */
  runtime: string | undefined;
  /** Runtime version. */
  runtimeVersion: string | undefined;
  /** Host name of the machine. */
  hostname: string | undefined;
  /** Process id. */
  pid: number | undefined;
  /** Jobs run at the same time. */
  concurrency: number;
  /** Task identifiers the worker runs. */
  tasks: string[];
  /** When this worker started (its own clock, ISO 8601). */
  startedAt: string;
  /**
   * The worker's own stale threshold: it aborts its jobs before going this
   * long without a heartbeat, and sweepers never judge it by a shorter one.
   */
  staleThresholdMs?: number;
}

function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** Collect the metadata; fields the runtime cannot tell are left undefined. */
export function workerMetadata(input: {
  runtime: Partial<Runtime> | undefined;
  concurrency: number;
  tasks: Iterable<string>;
  now: number;
  staleThresholdMs?: number;
}): WorkerMetadata {
  const rt = input.runtime;
  return {
    library: "spool",
    version: SPOOL_VERSION,
    runtime: typeof rt?.name === "string" ? rt.name : undefined,
    runtimeVersion: typeof rt?.version === "string" ? rt.version : undefined,
    hostname: typeof rt?.hostname === "function" ? attempt(() => rt.hostname!()) : undefined,
    pid: typeof rt?.pid === "function" ? attempt(() => rt.pid!()) : undefined,
    concurrency: input.concurrency,
    tasks: [...input.tasks].sort(),
    startedAt: new Date(input.now).toISOString(),
    staleThresholdMs: input.staleThresholdMs,
  };
}
