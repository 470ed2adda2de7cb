/**
 * Cancelling jobs.
 *
 * {@linkcode jobsCancel} (WorkerUtils): the jobs are locked `for update`
 * first, so no fetch can take one in between (fetches skip locked rows).
 * Waiting jobs (not locked by a worker, attempts left) are permanently
 * failed at once: `attempts = max_attempts`, `last_error = "cancelled:
 * <reason>"`; they never run. For jobs a worker holds, one notification per
 * holder goes out on {@linkcode CANCEL_CHANNEL} when the statement commits,
 * `{"workerId", "jobIds", "reason"}`: a Spool worker aborts those jobs and
 * fails them itself (graphile-worker does not listen on this channel).
 * Jobs that no longer exist (finished) are not touched.
 *
 * {@linkcode jobCancelRunning} (the worker): permanently fail one job this
 * worker holds and unlock its queue, addressed by `locked_by`.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";
import { queueUnlockSql } from "./_queue_unlock.ts";

/** Channel of cancel requests for running jobs (Spool's own; graphile-worker ignores it). */
export const CANCEL_CHANNEL = "spool:cancel";

/** `last_error` of a cancelled job. */
export function cancelMessage(reason: string | undefined): string {
  return reason ? `cancelled: ${reason}` : "cancelled";
}

/** Parameters of {@linkcode jobsCancel}: ids, or one job key. */
export interface JobsCancelParams {
  schema: string;
  ids: readonly string[];
  key: string | null;
  reason: string | undefined;
}

/** What {@linkcode jobsCancel} did. */
export interface JobsCancelRow {
  /** Waiting jobs now permanently failed. */
  failed: string[];
  /** Jobs held by a worker, whose worker was notified. */
  notified: string[];
}

const cancelCache = new Map<string, string>();

function cancelText(schema: string): string {
  const hit = cancelCache.get(schema);
  if (hit) return hit;
  const s = quoteIdent(schema);
  // $1 ids, $2 key, $3 last_error, $4 reason (null when none), $5 channel
  const text = `with targets as materialized (
  select j.id, j.locked_by, j.attempts, j.max_attempts from ${s}._private_jobs j
  where j.id = any(string_to_array($1::text, ',')::bigint[]) or j.key = $2::text
  for update
), failed as (
  update ${s}._private_jobs as jobs
  set attempts = jobs.max_attempts, last_error = $3::text, updated_at = now()
  from targets t
  where jobs.id = t.id and t.locked_by is null and t.attempts < t.max_attempts
  returning jobs.id
), notified as (
  select t.locked_by, pg_notify($5::text, json_build_object(
    'workerId', t.locked_by, 'jobIds', array_agg(t.id::text order by t.id), 'reason', $4::text
  )::text) as sent
  from targets t where t.locked_by is not null group by t.locked_by
)
select array_to_string(array(select id from failed order by id), ',') as failed,
  array_to_string(array(select t.id from targets t where t.locked_by is not null order by t.id), ',')
    as notified,
  (select count(*) from notified)::int as workers`;
  cancelCache.set(schema, text);
  return text;
}

/** Cancel jobs by id (or the job holding `key`) in one statement; see the module doc. */
export async function jobsCancel(
  exec: Queryable,
  params: JobsCancelParams,
): Promise<JobsCancelRow> {
  // Ids come back as comma-joined text: a text[] column is only parsed once postgres.js has
  // looked up the server's array types, which a fresh pool may not have done yet.
  const { rows } = await exec.query<{ failed: string; notified: string; workers: number }>(
    cancelText(params.schema),
    [
      params.ids.join(","), // ids are checked numeric strings; text avoids array typing
      params.key,
      cancelMessage(params.reason),
      params.reason ?? null,
      CANCEL_CHANNEL,
    ],
  );
  const ids = (joined: string | undefined) => joined ? joined.split(",") : [];
  return { failed: ids(rows[0]?.failed), notified: ids(rows[0]?.notified) };
}

/** A job permanently failed by {@linkcode jobCancelRunning}. */
export interface CancelledJobRow {
  id: string;
  attempts: number;
  max_attempts: number;
  run_at: Date;
}

const runningCache = new Map<string, string>();

function runningText(schema: string): string {
  const hit = runningCache.get(schema);
  if (hit) return hit;
  const s = quoteIdent(schema);
  const text = `with failed as (
  update ${s}._private_jobs as jobs
  set attempts = jobs.max_attempts, last_error = $3::text, locked_by = null, locked_at = null,
    updated_at = now()
  where jobs.id = $2::bigint and jobs.locked_by = $1::text
  returning jobs.id, jobs.job_queue_id, jobs.attempts, jobs.max_attempts, jobs.run_at
), unlocked as (
  ${queueUnlockSql(s, "failed")}
)
select id::text as id, attempts, max_attempts, run_at from failed`;
  runningCache.set(schema, text);
  return text;
}

/** Permanently fail a job `workerId` holds (a cancelled running job). Undefined when not held. */
export async function jobCancelRunning(
  exec: Queryable,
  params: { schema: string; workerId: string; id: string; message: string },
): Promise<CancelledJobRow | undefined> {
  const { rows } = await exec.query<CancelledJobRow>(runningText(params.schema), [
    params.workerId,
    params.id,
    params.message,
  ]);
  return rows[0];
}
