/**
 * Fetching (locking) runnable jobs for a worker.
 *
 * Locking strategy: named queues are locked up front. The candidate scan only
 * considers jobs with no queue, or whose queue row this statement could lock
 * (`for update skip locked` on `_private_job_queues`, while `is_available`);
 * the job rows themselves are also taken with `for update skip locked`, so
 * concurrent fetchers never pick the same job. A batch keeps at most one job
 * per named queue (the earliest by priority, then run_at): a named queue runs
 * one job at a time across all workers. The chosen queues get `locked_by` /
 * `locked_at`, and the chosen jobs get `attempts + 1`, `locked_by`,
 * `locked_at` in the same statement.
 *
 * Commit: asynchronous (see `_async_commit.ts`).
 *
 * Timestamps come back as epoch milliseconds (`float8`) and become `Date`s
 * here: building a `Date` from a number is several times cheaper than the
 * driver parsing a timestamp string, and a batch carries three per job.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";
import { ASYNC_COMMIT_CTE } from "./_async_commit.ts";

/** Parameters of {@linkcode jobsFetch}. */
export interface JobsFetchParams {
  /** Worker schema (unquoted). */
  schema: string;
  /** Written to `locked_by` on the jobs and queues this fetch locks. */
  workerId: string;
  /** Only jobs of these task ids are fetched. */
  taskIds: readonly number[];
  /** Most jobs to lock (at most one per named queue). */
  batchSize: number;
  /** Jobs carrying any of these flags are skipped. */
  forbiddenFlags?: readonly string[] | null;
  /** The client's clock (`useLocalTime`); the database's `now()` when absent. */
  now?: Date;
}

/** A job row as locked by {@linkcode jobsFetch}. */
export interface FetchedJobRow {
  id: string;
  job_queue_id: number | null;
  queue_name: string | null;
  task_id: number;
  payload: unknown;
  priority: number;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  key: string | null;
  flags: Record<string, unknown> | null;
  created_at: Date;
  locked_at: Date;
}

const cache = new Map<string, string>();

/** Epoch milliseconds of a timestamptz, truncated like a `Date` parsed from its text. */
const ms = (column: string) => `floor(extract(epoch from ${column}) * 1000)::float8`;

function fetchText(schema: string, withFlags: boolean, withNow: boolean): string {
  const cacheKey = `${withFlags ? "f" : ""}${withNow ? "n" : ""}/${schema}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const s = quoteIdent(schema);
  let n = 3;
  const flagsClause = withFlags ? `\n    and (jobs.flags ?| $${++n}::text[]) is not true` : "";
  const now = withNow ? `$${++n}::timestamptz` : "now()";
  const text = `with ${ASYNC_COMMIT_CTE}, candidates as (
  select jobs.id, jobs.job_queue_id, jobs.priority, jobs.run_at
  from ${s}._private_jobs as jobs
  where jobs.is_available = true
    and jobs.run_at <= ${now}
    and jobs.task_id = any($2::int[])
    and (
      jobs.job_queue_id is null
      or jobs.job_queue_id in (
        select queues.id
        from ${s}._private_job_queues as queues
        where queues.is_available = true
        for update skip locked
      )
    )${flagsClause}
  order by jobs.priority asc, jobs.run_at asc
  limit $3::int
  for update skip locked
), ranked as (
  select candidates.*,
    row_number() over (
      partition by candidates.job_queue_id
      order by candidates.priority asc, candidates.run_at asc, candidates.id asc
    ) as queue_rank
  from candidates
), picked as (
  select id, job_queue_id from ranked where job_queue_id is null or queue_rank = 1
), locked_queues as (
  update ${s}._private_job_queues as queues
  set locked_by = $1::text, locked_at = ${now}
  from picked
  where queues.id = picked.job_queue_id
  returning queues.id, queues.queue_name
)
update ${s}._private_jobs as jobs
set attempts = jobs.attempts + 1, locked_by = $1::text, locked_at = ${now}
from picked
cross join async_commit
left join locked_queues on locked_queues.id = picked.job_queue_id
where jobs.id = picked.id
returning jobs.id, jobs.job_queue_id, locked_queues.queue_name, jobs.task_id, jobs.payload,
  jobs.priority, ${ms("jobs.run_at")} as run_at, jobs.attempts, jobs.max_attempts, jobs.key,
  jobs.flags, ${ms("jobs.created_at")} as created_at, ${ms("jobs.locked_at")} as locked_at`;
  cache.set(cacheKey, text);
  return text;
}

/**
 * Lock up to `batchSize` runnable jobs for `workerId` and return them, lowest
 * priority first, then earliest `run_at`.
 */
export async function jobsFetch(
  exec: Queryable,
  params: JobsFetchParams,
): Promise<FetchedJobRow[]> {
  if (params.taskIds.length === 0 || params.batchSize < 1) return [];
  const withFlags = params.forbiddenFlags != null && params.forbiddenFlags.length > 0;
  const withNow = params.now !== undefined;
  const values: unknown[] = [params.workerId, [...params.taskIds], params.batchSize];
  if (withFlags) values.push([...params.forbiddenFlags!]);
  if (withNow) values.push(params.now);
  const { rows } = await exec.query<FetchedJobRow & { run_at: number }>(
    fetchText(params.schema, withFlags, withNow),
    values,
  );
  if (rows.length > 1) {
    rows.sort((a, b) =>
      a.priority - b.priority || a.run_at - b.run_at || a.id.length - b.id.length ||
      (a.id < b.id ? -1 : 1)
    );
  }
  const out = rows as unknown as FetchedJobRow[];
  for (const row of rows as unknown as Record<"run_at" | "created_at" | "locked_at", unknown>[]) {
    row.run_at = new Date(Number(row.run_at));
    row.created_at = new Date(Number(row.created_at));
    row.locked_at = new Date(Number(row.locked_at));
  }
  return out;
}
