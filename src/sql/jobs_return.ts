/**
 * Returning jobs a worker locked but will not finish: jobs fetched but never
 * started, and jobs interrupted by shutdown. The attempt is given back
 * (`attempts - 1`, never below 0), the job and its queue are unlocked, and
 * `run_at` is optionally pushed back.
 *
 * Locking strategy: only rows still locked by this worker are touched, and
 * only queues it holds are unlocked.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";
import { queueUnlockSql } from "./_queue_unlock.ts";

/** Parameters of {@linkcode jobsReturn}. */
export interface JobsReturnParams {
  /** Worker schema (unquoted). */
  schema: string;
  /** The worker holding the jobs. */
  workerId: string;
  /** Ids of the jobs to hand back. */
  ids: readonly string[];
  /** When set, `run_at = now + retryDelayMs`; otherwise `run_at` is unchanged. */
  retryDelayMs?: number;
  /** When set, stored in `last_error`; otherwise `last_error` is unchanged. */
  message?: string;
  /** The client's clock (`useLocalTime`); the database's `now()` when absent. */
  now?: Date;
}

const cache = new Map<string, string>();

function returnText(schema: string, withNow: boolean): string {
  const cacheKey = `${withNow ? "n" : ""}/${schema}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const s = quoteIdent(schema);
  const now = withNow ? "$5::timestamptz" : "now()";
  const text = `with returned as (
  update ${s}._private_jobs as jobs
  set attempts = greatest(0, jobs.attempts - 1),
    locked_by = null,
    locked_at = null,
    run_at = case when $3::float8 is null then jobs.run_at
      else ${now} + $3::float8 * interval '1 millisecond' end,
    last_error = coalesce($4::text, jobs.last_error)
  where jobs.id = any($2::bigint[]) and jobs.locked_by = $1::text
  returning jobs.id, jobs.job_queue_id
), unlocked as (
  ${queueUnlockSql(s, "returned")}
)
select count(*)::int as count from returned`;
  cache.set(cacheKey, text);
  return text;
}

/** Hand jobs back unlocked, without using up the attempt. Returns how many were returned. */
export async function jobsReturn(exec: Queryable, params: JobsReturnParams): Promise<number> {
  if (params.ids.length === 0) return 0;
  const values: unknown[] = [
    params.workerId,
    [...params.ids],
    params.retryDelayMs ?? null,
    params.message ?? null,
  ];
  if (params.now !== undefined) values.push(params.now);
  const { rows } = await exec.query<{ count: number }>(
    returnText(params.schema, params.now !== undefined),
    values,
  );
  return rows[0]?.count ?? 0;
}
