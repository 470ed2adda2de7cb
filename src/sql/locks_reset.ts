/**
 * Resetting stale locks: a job or queue locked more than 4 hours ago belongs
 * to a worker that is presumed dead. Its lock is cleared so the job can run
 * again (graphile-worker's periodic reset). Jobs keep their attempt count and
 * become due no earlier than now.
 *
 * Locking strategy: plain updates; the statement is idempotent, so any number
 * of workers may run it at any time.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";

/** Parameters of {@linkcode locksReset}. */
export interface LocksResetParams {
  /** Worker schema (unquoted). */
  schema: string;
  /** The client's clock (`useLocalTime`); the database's `now()` when absent. */
  now?: Date;
}

/** How many rows {@linkcode locksReset} unlocked. */
export interface LocksResetResult {
  jobs: number;
  queues: number;
}

const cache = new Map<string, string>();

function resetText(schema: string, withNow: boolean): string {
  const cacheKey = `${withNow ? "n" : ""}/${schema}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const s = quoteIdent(schema);
  const now = withNow ? "$1::timestamptz" : "now()";
  const text = `with stale_jobs as (
  update ${s}._private_jobs as jobs
  set locked_at = null, locked_by = null, run_at = greatest(jobs.run_at, ${now})
  where jobs.locked_at < ${now} - interval '4 hours'
  returning jobs.id
), stale_queues as (
  update ${s}._private_job_queues as queues
  set locked_at = null, locked_by = null
  where queues.locked_at < ${now} - interval '4 hours'
  returning queues.id
)
select (select count(*) from stale_jobs)::int as jobs,
  (select count(*) from stale_queues)::int as queues`;
  cache.set(cacheKey, text);
  return text;
}

/** Clear locks older than 4 hours on jobs and queues. */
export async function locksReset(
  exec: Queryable,
  params: LocksResetParams,
): Promise<LocksResetResult> {
  const values = params.now !== undefined ? [params.now] : [];
  const { rows } = await exec.query<LocksResetResult>(
    resetText(params.schema, params.now !== undefined),
    values,
  );
  return rows[0] ?? { jobs: 0, queues: 0 };
}
