/**
 * Failing jobs: record the error, unlock the job and its queue, and schedule
 * the retry. A job whose attempts reached max_attempts stays in the table,
 * unlocked and no longer available (permanently failed).
 *
 * Locking strategy: only rows still locked by this worker are touched
 * (`locked_by = workerId`), so a job whose stale lock was reset and that
 * another worker picked up is left alone. Queues are unlocked only when this
 * worker holds them.
 *
 * Replacement payload: a failure may carry `payload`, which replaces the
 * stored payload (`payload = coalesce(replacement, payload)`); batch jobs use
 * it to keep only their failed items.
 *
 * Backoff: `run_at = greatest(now, run_at) + delay`, where the delay is the
 * given number of seconds, or graphile-worker's curve
 * `exp(least(attempts, 10))` seconds, computed in SQL, when none is given.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";
import { queueUnlockSql } from "./_queue_unlock.ts";

/** One failed job. */
export interface JobFailure {
  /** Job id. */
  id: string;
  /** Stored in `last_error`. */
  message: string;
  /** Seconds until the retry; graphile-worker's exponential curve when absent. */
  delaySeconds?: number;
  /** Replaces the stored payload when set (batch jobs: the failed items only). */
  payload?: unknown;
}

/** Parameters of {@linkcode jobsFail}. */
export interface JobsFailParams {
  /** Worker schema (unquoted). */
  schema: string;
  /** The worker that ran the jobs. */
  workerId: string;
  /** The failures. */
  failures: readonly JobFailure[];
  /** The client's clock (`useLocalTime`); the database's `now()` when absent. */
  now?: Date;
}

/** A failed job as updated by {@linkcode jobsFail}. */
export interface FailedJobRow {
  id: string;
  attempts: number;
  max_attempts: number;
  run_at: Date;
}

const cache = new Map<string, string>();

function failText(schema: string, withNow: boolean): string {
  const cacheKey = `${withNow ? "n" : ""}/${schema}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const s = quoteIdent(schema);
  const now = withNow ? "$3::timestamptz" : "now()";
  const text = `with failures as (
  select (item->>'id')::bigint as id, item->>'message' as message, (item->>'delay')::float8 as delay,
    item->'payload' as payload
  from json_array_elements($2::text::json) as item
), failed as (
  update ${s}._private_jobs as jobs
  set last_error = failures.message,
    payload = coalesce(failures.payload, jobs.payload),
    run_at = greatest(${now}, jobs.run_at)
      + coalesce(failures.delay, exp(least(jobs.attempts, 10))) * interval '1 second',
    locked_by = null,
    locked_at = null
  from failures
  where jobs.id = failures.id and jobs.locked_by = $1::text
  returning jobs.id, jobs.job_queue_id, jobs.attempts, jobs.max_attempts, jobs.run_at
), unlocked as (
  ${queueUnlockSql(s, "failed")}
)
select id, attempts, max_attempts, run_at from failed`;
  cache.set(cacheKey, text);
  return text;
}

/** Fail jobs locked by `workerId`, in one round trip. Returns the rows updated. */
export async function jobsFail(exec: Queryable, params: JobsFailParams): Promise<FailedJobRow[]> {
  if (params.failures.length === 0) return [];
  const items = params.failures.map((f) => {
    const item: Record<string, unknown> = { id: f.id, message: f.message };
    if (f.delaySeconds !== undefined) item.delay = f.delaySeconds;
    if (f.payload !== undefined && f.payload !== null) item.payload = f.payload;
    return item;
  });
  const values: unknown[] = [params.workerId, JSON.stringify(items)];
  if (params.now !== undefined) values.push(params.now);
  const { rows } = await exec.query<FailedJobRow>(
    failText(params.schema, params.now !== undefined),
    values,
  );
  return rows;
}
