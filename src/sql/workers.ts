/**
 * The worker registry (`_private_workers`, migration 22): heartbeats,
 * deregistration and listing. Times are the database's `now()`, so workers
 * on machines with skewed clocks are judged fairly.
 *
 * Locking strategy: one upsert or delete per call on the worker's own row.
 * A sweeper removing a stale row holds that row's lock, so a heartbeat racing
 * it waits and then inserts a fresh row, which it reports (`inserted`).
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";

/** Parameters of {@linkcode workerHeartbeat}. */
export interface WorkerHeartbeatParams {
  /** Worker schema (unquoted). */
  schema: string;
  /** The worker's id (the value it writes to `locked_by`). */
  workerId: string;
  /** Metadata stored with the row (JSON-encodable); kept as is when undefined. */
  metadata?: unknown;
}

/** Register the worker or renew its heartbeat. `inserted` is true when no row existed. */
export async function workerHeartbeat(
  exec: Queryable,
  params: WorkerHeartbeatParams,
): Promise<{ inserted: boolean }> {
  const s = quoteIdent(params.schema);
  const { rows } = await exec.query<{ inserted: boolean }>(
    `insert into ${s}._private_workers as w (id, last_heartbeat_at, started_at, metadata)
     values ($1::text, now(), now(), $2::text::jsonb)
     on conflict (id) do update
       set last_heartbeat_at = now(), metadata = coalesce(excluded.metadata, w.metadata)
     returning (xmax = 0) as inserted`,
    [
      params.workerId,
      params.metadata === undefined ? null : JSON.stringify(params.metadata),
    ],
  );
  return { inserted: rows[0]?.inserted === true };
}

/**
 * Remove the worker's row, but only when it holds no job or queue lock any
 * more: a worker that could not hand everything back stays registered, its
 * heartbeat goes stale and a sweeper recovers what it still holds. Returns
 * true when the row was removed (or was already gone).
 */
export async function workerDeregister(
  exec: Queryable,
  params: { schema: string; workerId: string },
): Promise<boolean> {
  const s = quoteIdent(params.schema);
  const { rows } = await exec.query<{ holds: boolean }>(
    `with holds as (
       select exists (select 1 from ${s}._private_jobs where locked_by = $1::text)
         or exists (select 1 from ${s}._private_job_queues where locked_by = $1::text) as holds
     ), gone as (
       delete from ${s}._private_workers as w
       using holds where w.id = $1::text and not holds.holds
     )
     select holds from holds`,
    [params.workerId],
  );
  return rows[0]?.holds !== true;
}

/** A row of {@linkcode workersList}. */
export interface WorkerRegistryRow {
  id: string;
  last_heartbeat_at: Date;
  started_at: Date;
  metadata: Record<string, unknown> | null;
  /** Heartbeat older than the threshold given to the query. */
  is_stale: boolean;
  /** Jobs this worker holds locked right now. */
  locked_jobs: number;
}

/** Registered workers, oldest first, with staleness judged against `thresholdMs`. */
export async function workersList(
  exec: Queryable,
  params: { schema: string; thresholdMs: number },
): Promise<WorkerRegistryRow[]> {
  const s = quoteIdent(params.schema);
  const { rows } = await exec.query<WorkerRegistryRow>(
    `select w.id, w.last_heartbeat_at, w.started_at, w.metadata,
       w.last_heartbeat_at < now() - $1::float8 * interval '1 millisecond' as is_stale,
       coalesce(l.n, 0)::int as locked_jobs
     from ${s}._private_workers w
     left join (
       select locked_by, count(*) as n from ${s}._private_jobs
       where locked_by is not null group by locked_by
     ) l on l.locked_by = w.id
     order by w.started_at, w.id`,
    [params.thresholdMs],
  );
  return rows;
}
