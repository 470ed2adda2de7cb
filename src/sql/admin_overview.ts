/**
 * Admin reads for the overview, tasks, queues, workers and crontabs: job
 * counts by state (exact, or from a block sample on big tables), the
 * table-size estimate that chooses between them, queue and task lists, lock
 * holders, the oldest due job and the next hour's schedule.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";
import { type JobState, jobStateSql } from "./admin_jobs.ts";

/** One group of {@linkcode adminStateCounts}: all jobs (`kind` "all"), one task or one queue. */
export interface StateCountRow {
  kind: "all" | "task" | "queue";
  /** Task id or queue id (null for "all" and for jobs in no queue). */
  ref: number | null;
  state: JobState;
  n: number;
}

/**
 * Job counts by state, in total, per task and per queue, in one scan. With
 * `samplePercent`, only that share of the table's blocks is read
 * (`tablesample system`) and `sampled` tells how many rows were seen.
 */
export async function adminStateCounts(
  q: Queryable,
  schema: string,
  samplePercent: number | null,
): Promise<{ rows: StateCountRow[]; sampled: number }> {
  const s = quoteIdent(schema);
  const sample = samplePercent === null ? "" : `tablesample system (${Number(samplePercent)})`;
  const { rows } = await q.query<
    { g: number; task_id: number | null; job_queue_id: number | null; state: JobState; n: string }
  >(
    `select grouping(task_id, job_queue_id) as g, task_id, job_queue_id, state, count(*) as n
     from (
       select j.task_id, j.job_queue_id, ${jobStateSql()} as state
       from ${s}._private_jobs j ${sample}
       left join ${s}._private_job_queues q on q.id = j.job_queue_id
     ) x
     group by grouping sets ((state), (task_id, state), (job_queue_id, state))`,
  );
  let sampled = 0;
  const out: StateCountRow[] = rows.map((r) => {
    const g = Number(r.g);
    const n = Number(r.n);
    // grouping() bits: 2 = task_id left out, 1 = job_queue_id left out.
    const kind = g === 3 ? "all" : g === 1 ? "task" : "queue";
    if (kind === "all") sampled += n;
    return {
      kind,
      ref: kind === "task" ? r.task_id : kind === "queue" ? r.job_queue_id : null,
      state: r.state,
      n,
    };
  });
  return { rows: out, sampled };
}

/** The planner's row estimate for `_private_jobs` (-1 when never analysed). */
export async function adminJobsRelTuples(q: Queryable, schema: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `select c.reltuples::float8 as n from pg_class c
     where c.oid = to_regclass($1::text)`,
    [`${quoteIdent(schema)}._private_jobs`],
  );
  return Number(rows[0]?.n ?? -1);
}

/** `_private_tasks`: id → identifier. */
export async function adminTasksList(
  q: Queryable,
  schema: string,
): Promise<Array<{ id: number; identifier: string }>> {
  const { rows } = await q.query<{ id: number; identifier: string }>(
    `select id, identifier from ${quoteIdent(schema)}._private_tasks order by identifier`,
  );
  return rows;
}

/** A row of `_private_job_queues`. */
export interface QueueRow {
  id: number;
  queue_name: string;
  locked_at: Date | null;
  locked_by: string | null;
}

/** `_private_job_queues`, by name. */
export async function adminQueuesList(q: Queryable, schema: string): Promise<QueueRow[]> {
  const { rows } = await q.query<QueueRow>(
    `select id, queue_name, locked_at, locked_by
     from ${quoteIdent(schema)}._private_job_queues order by queue_name`,
  );
  return rows;
}

/** A lock holder: jobs and queues it holds and its newest lock. */
export interface LockHolderRow {
  locked_by: string;
  jobs: number;
  queues: number;
  newest_lock_at: Date;
  registered: boolean;
}

/** Every `locked_by` holding a job or queue lock, and whether it is in `_private_workers`. */
export async function adminLockHolders(q: Queryable, schema: string): Promise<LockHolderRow[]> {
  const s = quoteIdent(schema);
  const { rows } = await q.query<LockHolderRow>(
    `select h.locked_by, sum(h.jobs)::int as jobs, sum(h.queues)::int as queues,
       max(h.newest) as newest_lock_at,
       exists (select 1 from ${s}._private_workers w where w.id = h.locked_by) as registered
     from (
       select locked_by, count(*) as jobs, 0 as queues, max(locked_at) as newest
       from ${s}._private_jobs where locked_by is not null group by locked_by
       union all
       select locked_by, 0, count(*), max(locked_at)
       from ${s}._private_job_queues where locked_by is not null group by locked_by
     ) h
     group by h.locked_by order by h.locked_by`,
  );
  return rows;
}

/**
 * The distinct priorities of available jobs, walked on graphile-worker's
 * `jobs_main_index (priority, run_at) where is_available` one index probe per
 * priority (a skip scan, which PostgreSQL before 18 does not do by itself).
 * Queries per priority then read `run_at` in index order instead of scanning
 * the table: a few probes where a full scan took hundreds of ms at 1M jobs.
 */
function priorities(s: string): string {
  return `with recursive prio as (
    (select j.priority from ${s}._private_jobs j where j.is_available order by j.priority limit 1)
    union all
    select (select j.priority from ${s}._private_jobs j
            where j.is_available and j.priority > prio.priority order by j.priority limit 1)
    from prio where prio.priority is not null
  )`;
}

/**
 * The `run_at` of the longest-waiting ready job (due, available, queue not
 * locked), and the database's `now()`.
 */
export async function adminOldestReady(
  q: Queryable,
  schema: string,
): Promise<{ run_at: Date | null; now: Date }> {
  const s = quoteIdent(schema);
  const { rows } = await q.query<{ run_at: Date | null; now: Date }>(
    `${priorities(s)}
     select (
       select min(o.run_at) from prio cross join lateral (
         select j.run_at from ${s}._private_jobs j
         left join ${s}._private_job_queues q on q.id = j.job_queue_id
         where j.is_available and j.priority = prio.priority and j.run_at <= now()
           and q.locked_at is null
         order by j.run_at limit 1
       ) o
       where prio.priority is not null
     ) as run_at, now() as now`,
  );
  return rows[0] ?? { run_at: null, now: new Date() };
}

/**
 * Available jobs due in each of `buckets` windows of `bucketMs` after now
 * (bucket 0 starts now); buckets without jobs are absent.
 */
export async function adminScheduleHistogram(
  q: Queryable,
  schema: string,
  bucketMs: number,
  buckets: number,
): Promise<Array<{ bucket: number; n: number }>> {
  const s = quoteIdent(schema);
  const { rows } = await q.query<{ bucket: number; n: string }>(
    `${priorities(s)}
     select x.bucket, sum(x.n) as n
     from prio cross join lateral (
       -- Grouped inside, so the planner cannot flatten this into a scan of the whole table.
       select floor(extract(epoch from (j.run_at - now())) * 1000 / $1::float8)::int as bucket,
         count(*) as n
       from ${s}._private_jobs j
       where j.is_available and j.priority = prio.priority and j.run_at > now()
         and j.run_at <= now() + $1::float8 * $2::int * interval '1 millisecond'
       group by 1
     ) x
     where prio.priority is not null
     group by 1 order by 1`,
    [bucketMs, buckets],
  );
  return rows
    .map((r) => ({ bucket: Math.min(Number(r.bucket), buckets - 1), n: Number(r.n) }));
}

/** A row of `_private_known_crontabs`. */
export interface CrontabRow {
  identifier: string;
  known_since: Date;
  last_execution: Date | null;
}

/** Every known crontab identifier, by identifier. */
export async function adminCrontabsList(q: Queryable, schema: string): Promise<CrontabRow[]> {
  const { rows } = await q.query<CrontabRow>(
    `select identifier, known_since, last_execution
     from ${quoteIdent(schema)}._private_known_crontabs order by identifier`,
  );
  return rows;
}

/** The database is reachable and the schema migrated: the highest migration id. */
export async function adminHealth(q: Queryable, schema: string): Promise<number | null> {
  const { rows } = await q.query<{ id: number | null }>(
    `select max(id) as id from ${quoteIdent(schema)}.migrations`,
  );
  return rows[0]?.id ?? null;
}
