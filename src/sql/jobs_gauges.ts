/**
 * Queue gauges for the OpenTelemetry plugin: jobs by state and the age of the
 * oldest ready job, in one statement (one pass over the jobs table, no join;
 * meant to run once per metrics collection interval, not per job).
 *
 * States: `ready` (available, `run_at` reached), `scheduled` (available,
 * `run_at` in the future), `locked` (held by a worker), `failed` (no attempt
 * left). Jobs of a locked named queue count as ready: they run once the queue
 * is free.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";

/** The counts one collection reports. */
export interface JobGaugeRow {
  ready: number;
  scheduled: number;
  locked: number;
  failed: number;
  /** Seconds since the oldest ready job's `run_at`; 0 when none is ready. */
  oldest_ready_age: number;
}

/** Count the jobs of `schema` by state (see the module doc). */
export async function jobsGauges(exec: Queryable, schema: string): Promise<JobGaugeRow> {
  const { rows } = await exec.query<Record<keyof JobGaugeRow, string | number | null>>(
    `select
       count(*) filter (where is_available and run_at <= now())::int as ready,
       count(*) filter (where is_available and run_at > now())::int as scheduled,
       count(*) filter (where locked_at is not null)::int as locked,
       count(*) filter (where locked_at is null and attempts >= max_attempts)::int as failed,
       coalesce(extract(epoch from now() - min(run_at) filter (
         where is_available and run_at <= now()))::float8, 0) as oldest_ready_age
     from ${quoteIdent(schema)}._private_jobs`,
  );
  const r = rows[0];
  return {
    ready: Number(r?.ready ?? 0),
    scheduled: Number(r?.scheduled ?? 0),
    locked: Number(r?.locked ?? 0),
    failed: Number(r?.failed ?? 0),
    oldest_ready_age: Number(r?.oldest_ready_age ?? 0),
  };
}
