/**
 * Sweeping dead workers: release the jobs and queues held by workers whose
 * heartbeat is too old, and remove their registry rows.
 *
 * Which lock holders are swept:
 * - registered workers whose `last_heartbeat_at` is older than the threshold
 *   (the threshold × multiplier when the worker holds a job carrying one of
 *   the resilient flags with a truthy value); a worker that declares a longer
 *   threshold of its own (`metadata.staleThresholdMs`, set by Spool workers)
 *   is judged by that one, since its fence relies on it;
 * - only when `sweepUnregistered` is set: lock holders that never registered
 *   (graphile-worker processes, Spool workers with recovery off) whose
 *   newest lock is older than the threshold (× multiplier likewise).
 *   Otherwise those are left to the 4-hour stale-lock reset.
 *
 * What happens to their jobs: unlocked, the interrupted attempt given back
 * (`attempts - 1`, never below 0), `run_at = greatest(run_at, now + delay)`,
 * `last_error` says the job was recovered and from whom. Their queues are
 * unlocked.
 *
 * Locking strategy: one statement, one transaction. It first takes
 * `pg_try_advisory_xact_lock(SWEEP_LOCK_CLASS, hashtext('spool:sweep:' ||
 * schema))`; when another sweeper holds it, nothing is scanned or changed
 * (`locked = false`). Stale worker rows are taken `for update skip locked`,
 * so a worker renewing its heartbeat at that moment is not swept. Job and
 * queue updates are addressed by `locked_by`, so a job another worker has
 * since locked is never touched. The dry run reads the same candidates
 * without the lock and without changing anything.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";

/** First key of the sweep's advisory lock ("SPOL"); the second is derived from the schema. */
export const SWEEP_LOCK_CLASS = 0x53504f4c;

/** Start of `last_error` on recovered jobs. */
export const RECOVERED_MESSAGE = "Job recovered after worker interruption";

/** Parameters of {@linkcode workersSweep}. */
export interface WorkersSweepParams {
  /** Worker schema (unquoted). */
  schema: string;
  /** A heartbeat (or, for unregistered holders, the newest lock) older than this is stale. */
  thresholdMs: number;
  /** Recovered jobs run no earlier than now + this. */
  recoveryDelayMs: number;
  /** Also sweep lock holders that never registered. */
  sweepUnregistered: boolean;
  /** Job flags that extend the threshold of whoever holds the job. */
  resilientFlags: readonly string[];
  /** Threshold multiplier for holders of resilient jobs. */
  resilientMultiplier: number;
  /** Never sweep these ids (the sweeping worker itself). */
  excludeIds?: readonly string[];
  /** Report what would be recovered without changing anything. */
  dryRun?: boolean;
}

/** What {@linkcode workersSweep} did (or would do). */
export interface WorkersSweepRow {
  /** False when another sweeper held the lock (nothing was done). Always true for a dry run. */
  locked: boolean;
  /** Registered workers found stale. */
  stale_ids: string[];
  /** Unregistered lock holders swept (empty unless `sweepUnregistered`). */
  unregistered_ids: string[];
  /** Jobs recovered (or that would be). */
  job_ids: string[];
  /** Queues unlocked (or that would be). */
  queues: number;
}

const cache = new Map<string, string>();

function sweepText(schema: string, dryRun: boolean): string {
  const cacheKey = `${dryRun ? "d" : ""}/${schema}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const s = quoteIdent(schema);
  // $1 lock class, $2 schema, $3 threshold ms, $4 multiplier, $5 resilient flags,
  // $6 sweep unregistered, $7 recovery delay ms, $8 excluded ids
  const gate = dryRun ? "true" : "(select got from sweep_lock)";
  const limit = (resilient: string, threshold = "$3::float8") =>
    `now() - ${threshold} * interval '1 millisecond' * (case when ${resilient} then $4::int else 1 end)`;
  // A Spool worker declares its own threshold (metadata.staleThresholdMs): its fence aborts its
  // jobs before that much time without a heartbeat, so it is never swept sooner.
  const declared =
    `greatest($3::float8, case when jsonb_typeof(w.metadata->'staleThresholdMs') = ` +
    `'number' then (w.metadata->>'staleThresholdMs')::float8 else 0 end)`;
  const common = `sweep_lock as materialized (
  select ${
    dryRun
      // A dry run takes no lock, but every parameter must still have a type.
      ? "$1::int is not null or $2::text is not null or $7::float8 is not null"
      : "pg_try_advisory_xact_lock($1::int, hashtext('spool:sweep:' || $2::text))"
  } as got
), locks as materialized (
  select j.locked_by, j.locked_at,
    case when jsonb_typeof(j.flags) = 'object' then exists (
      select 1 from jsonb_each(j.flags) f
      where f.key = any($5::text[]) and f.value not in ('false'::jsonb, 'null'::jsonb)
    ) else false end as resilient
  from ${s}._private_jobs j
  where ${gate} and j.locked_by is not null and j.locked_by <> all($8::text[])
  union all
  select q.locked_by, q.locked_at, false
  from ${s}._private_job_queues q
  where ${gate} and q.locked_by is not null and q.locked_by <> all($8::text[])
), stale_workers as materialized (
  select w.id from ${s}._private_workers w
  where ${gate} and w.id <> all($8::text[])
    and w.last_heartbeat_at < ${
    limit("exists (select 1 from locks l where l.locked_by = w.id and l.resilient)", declared)
  }
  ${dryRun ? "" : "for update of w skip locked"}
), unregistered as materialized (
  select l.locked_by as id from locks l
  where $6::boolean
    and not exists (select 1 from ${s}._private_workers w where w.id = l.locked_by)
  group by l.locked_by
  having max(l.locked_at) < ${limit("bool_or(l.resilient)")}
), targets as materialized (
  select id, 'no heartbeat for longer than the threshold' as why from stale_workers
  union all
  select id, 'never registered; its newest lock is older than the threshold' from unregistered
)`;
  const text = dryRun
    ? `with ${common},
recovered as (
  select j.id from ${s}._private_jobs j join targets t on j.locked_by = t.id
), queues as (
  select q.id from ${s}._private_job_queues q join targets t on q.locked_by = t.id
)
select true as locked,
  array(select id from stale_workers order by id) as stale_ids,
  array(select id from unregistered order by id) as unregistered_ids,
  array(select id::text from recovered order by id) as job_ids,
  (select count(*) from queues)::int as queues`
    : `with ${common},
recovered as (
  update ${s}._private_jobs as jobs
  set attempts = greatest(0, jobs.attempts - 1),
    locked_by = null,
    locked_at = null,
    run_at = greatest(jobs.run_at, now() + $7::float8 * interval '1 millisecond'),
    last_error = '${RECOVERED_MESSAGE} (worker ' || t.id || ': ' || t.why || ')',
    updated_at = now()
  from targets t
  where jobs.locked_by = t.id
  returning jobs.id
), queues as (
  update ${s}._private_job_queues as q
  set locked_by = null, locked_at = null
  from targets t
  where q.locked_by = t.id
  returning q.id
), removed as (
  delete from ${s}._private_workers as w using stale_workers sw where w.id = sw.id
)
select (select got from sweep_lock) as locked,
  array(select id from stale_workers order by id) as stale_ids,
  array(select id from unregistered order by id) as unregistered_ids,
  array(select id::text from recovered order by id) as job_ids,
  (select count(*) from queues)::int as queues`;
  cache.set(cacheKey, text);
  return text;
}

/** Sweep (or, with `dryRun`, inspect) dead workers in one statement; see the module doc. */
export async function workersSweep(
  exec: Queryable,
  params: WorkersSweepParams,
): Promise<WorkersSweepRow> {
  const dryRun = params.dryRun === true;
  const { rows } = await exec.query<WorkersSweepRow>(sweepText(params.schema, dryRun), [
    SWEEP_LOCK_CLASS,
    params.schema,
    params.thresholdMs,
    params.resilientMultiplier,
    [...params.resilientFlags],
    params.sweepUnregistered,
    params.recoveryDelayMs,
    [...(params.excludeIds ?? [])],
  ]);
  const row = rows[0];
  return {
    locked: row?.locked === true,
    stale_ids: row?.stale_ids ?? [],
    unregistered_ids: row?.unregistered_ids ?? [],
    job_ids: row?.job_ids ?? [],
    queues: row?.queues ?? 0,
  };
}
