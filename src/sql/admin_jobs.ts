/**
 * Admin reads of jobs: the one definition of a job's state, server-side
 * filters, keyset pages on `id`, counts (exact, or the planner's estimate) and
 * the id lists that filter actions act on.
 *
 * States (disjoint; `now()` is the statement's transaction time):
 * - `running`: `locked_at is not null` (a worker holds the job);
 * - `failed`: not locked and `attempts >= max_attempts` (permanently failed);
 * - `retrying`: available, `attempts > 0` and `run_at > now()` (waiting out its backoff);
 * - `scheduled`: available, `attempts = 0` and `run_at > now()`;
 * - `blocked`: available and due, but its named queue is locked (another job
 *   of that queue runs), so no worker can take it yet;
 * - `ready`: available and due, in no queue or an unlocked one.
 * "Available" is graphile-worker's `is_available`: not locked, attempts left.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";
import { type JobRow, jobRowColumns, jobRowJoins } from "./job_row.ts";

/** Every job state the admin API reports, in display order. */
export const JOB_STATES = [
  "ready",
  "blocked",
  "scheduled",
  "retrying",
  "running",
  "failed",
] as const;

/** One job state (see the module doc). */
export type JobState = typeof JOB_STATES[number];

/** The state of job `j` (its queue joined as `q`), as a SQL expression. */
export function jobStateSql(j = "j", q = "q"): string {
  return `(case when ${j}.locked_at is not null then 'running'
    when ${j}.attempts >= ${j}.max_attempts then 'failed'
    when ${j}.run_at > now() then (case when ${j}.attempts > 0 then 'retrying' else 'scheduled' end)
    when ${q}.locked_at is not null then 'blocked'
    else 'ready' end)`;
}

// Index-friendly predicates, equal to `jobStateSql(...) = state` row by row.
const STATE_WHERE: Record<JobState, string> = {
  running: "j.locked_at is not null",
  failed: "j.locked_at is null and j.attempts >= j.max_attempts",
  retrying: "j.is_available and j.run_at > now() and j.attempts > 0",
  scheduled: "j.is_available and j.run_at > now() and j.attempts = 0",
  blocked: "j.is_available and j.run_at <= now() and q.locked_at is not null",
  ready: "j.is_available and j.run_at <= now() and q.locked_at is null",
};

/** Server-side job filters; every field narrows, lists match any of their values. */
export interface JobFilter {
  states?: readonly JobState[];
  tasks?: readonly string[];
  queues?: readonly string[];
  keys?: readonly string[];
  /** `locked_by` values. */
  workers?: readonly string[];
  ids?: readonly string[];
  runAtFrom?: Date;
  runAtTo?: Date;
  createdFrom?: Date;
  createdTo?: Date;
  /** JSON text; matches jobs whose payload contains it (`@>`). */
  payload?: string;
  /** Case-insensitive substring of `last_error`. */
  error?: string;
}

/** A job row with its derived state. */
export interface AdminJobRow extends JobRow {
  state: JobState;
  is_available: boolean;
}

/** `where` text for `filter` (the job is `j`, its queue `q`); pushes parameters onto `params`. */
export function jobFilterWhere(schema: string, filter: JobFilter, params: unknown[]): string {
  const s = quoteIdent(schema);
  const p = (value: unknown, cast: string) => {
    params.push(value);
    return `$${params.length}::${cast}`;
  };
  const parts: string[] = [];
  if (filter.states?.length) {
    parts.push(`(${filter.states.map((st) => `(${STATE_WHERE[st]})`).join(" or ")})`);
  }
  if (filter.tasks?.length) {
    parts.push(
      `j.task_id in (select id from ${s}._private_tasks where identifier = any(${
        p([...filter.tasks], "text[]")
      }))`,
    );
  }
  if (filter.queues?.length) {
    parts.push(
      `j.job_queue_id in (select id from ${s}._private_job_queues where queue_name = any(${
        p([...filter.queues], "text[]")
      }))`,
    );
  }
  if (filter.keys?.length) parts.push(`j.key = any(${p([...filter.keys], "text[]")})`);
  if (filter.workers?.length) parts.push(`j.locked_by = any(${p([...filter.workers], "text[]")})`);
  if (filter.ids?.length) parts.push(`j.id = any(${p([...filter.ids], "bigint[]")})`);
  if (filter.runAtFrom) parts.push(`j.run_at >= ${p(filter.runAtFrom, "timestamptz")}`);
  if (filter.runAtTo) parts.push(`j.run_at < ${p(filter.runAtTo, "timestamptz")}`);
  if (filter.createdFrom) parts.push(`j.created_at >= ${p(filter.createdFrom, "timestamptz")}`);
  if (filter.createdTo) parts.push(`j.created_at < ${p(filter.createdTo, "timestamptz")}`);
  if (filter.payload !== undefined) {
    parts.push(`j.payload::jsonb @> ${p(filter.payload, "text")}::jsonb`);
  }
  if (filter.error !== undefined) {
    parts.push(`strpos(lower(j.last_error), lower(${p(filter.error, "text")})) > 0`);
  }
  return parts.length ? parts.join(" and ") : "true";
}

function fromJobs(schema: string): string {
  return `${quoteIdent(schema)}._private_jobs j ${jobRowJoins(schema, "j")}`;
}

/** Keyset page parameters: rows strictly after (`next`) or before (`prev`) `cursorId`. */
export interface JobPageParams {
  order: "asc" | "desc";
  direction: "next" | "prev";
  cursorId: string | null;
  /** Rows to read (the caller asks for one more than it shows, to know if more exist). */
  limit: number;
}

/**
 * One keyset page on `id`, in the order asked for (for `prev`, read backwards
 * and returned in display order). Cost does not grow with depth: the cursor
 * is an index bound, never an offset.
 */
export async function adminJobsPage(
  q: Queryable,
  schema: string,
  filter: JobFilter,
  page: JobPageParams,
): Promise<AdminJobRow[]> {
  const params: unknown[] = [];
  const where = [jobFilterWhere(schema, filter, params)];
  // Walking "prev" flips the scan direction; rows are flipped back below.
  const forward = page.direction === "next";
  const asc = (page.order === "asc") === forward;
  if (page.cursorId !== null) {
    params.push(page.cursorId);
    where.push(`j.id ${asc ? ">" : "<"} $${params.length}::bigint`);
  }
  params.push(page.limit);
  const { rows } = await q.query<AdminJobRow>(
    `select ${jobRowColumns("j")}, j.is_available, ${jobStateSql()} as state
     from ${fromJobs(schema)}
     where ${where.join(" and ")}
     order by j.id ${asc ? "asc" : "desc"}
     limit $${params.length}::int`,
    params,
  );
  return forward ? rows : rows.reverse();
}

/** One job with its state, or null. */
export async function adminJobGet(
  q: Queryable,
  schema: string,
  id: string,
): Promise<AdminJobRow | null> {
  const { rows } = await q.query<AdminJobRow>(
    `select ${jobRowColumns("j")}, j.is_available, ${jobStateSql()} as state
     from ${fromJobs(schema)} where j.id = $1::bigint`,
    [id],
  );
  return rows[0] ?? null;
}

/** Exact number of jobs matching `filter`. */
export async function adminJobsCount(
  q: Queryable,
  schema: string,
  filter: JobFilter,
): Promise<number> {
  const params: unknown[] = [];
  const { rows } = await q.query<{ n: string }>(
    `select count(*) as n from ${fromJobs(schema)} where ${jobFilterWhere(schema, filter, params)}`,
    params,
  );
  return Number(rows[0]?.n ?? 0);
}

/** The planner's estimate of the rows matching `filter` (no scan). */
export async function adminJobsCountEstimate(
  q: Queryable,
  schema: string,
  filter: JobFilter,
): Promise<number> {
  const params: unknown[] = [];
  const { rows } = await q.query<{ "QUERY PLAN": unknown }>(
    `explain (format json) select 1 from ${fromJobs(schema)} where ${
      jobFilterWhere(schema, filter, params)
    }`,
    params,
  );
  const raw = rows[0]?.["QUERY PLAN"];
  const plan = (typeof raw === "string" ? JSON.parse(raw) : raw) as
    | Array<{ Plan?: { "Plan Rows"?: number } }>
    | undefined;
  return Math.round(plan?.[0]?.Plan?.["Plan Rows"] ?? 0);
}

/** Ids of up to `limit` jobs matching `filter`, ascending. */
export async function adminJobsIds(
  q: Queryable,
  schema: string,
  filter: JobFilter,
  limit: number,
): Promise<string[]> {
  const params: unknown[] = [];
  const where = jobFilterWhere(schema, filter, params);
  params.push(limit);
  const { rows } = await q.query<{ id: string }>(
    `select j.id::text as id from ${fromJobs(schema)} where ${where}
     order by j.id limit $${params.length}::int`,
    params,
  );
  return rows.map((r) => r.id);
}

/** For ids an action skipped: which still exist, and whether a worker holds them. */
export async function adminJobsLockState(
  q: Queryable,
  schema: string,
  ids: readonly string[],
): Promise<Map<string, boolean>> {
  const { rows } = await q.query<{ id: string; locked: boolean }>(
    `select id::text as id, locked_at is not null as locked
     from ${quoteIdent(schema)}._private_jobs where id = any($1::bigint[])`,
    [[...ids]],
  );
  return new Map(rows.map((r) => [r.id, r.locked]));
}

/**
 * Run `fn` in a transaction whose statements are cancelled after `ms`
 * (SQLSTATE 57014), so an admin read on a huge table cannot hold a connection
 * long, and which uses no parallel workers: admin pages stop after a few rows,
 * parallel plans mostly add worker start-up, and the admin should not take the
 * cores the workers' own queries need. JIT is off too: these statements are
 * short, and compiling them cost more than it saved.
 */
export function withReadLimits<T>(
  db: { transaction<U>(fn: (tx: Queryable) => Promise<U>): Promise<U> },
  ms: number,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(
      `select set_config('statement_timeout', $1::text, true),
         set_config('max_parallel_workers_per_gather', '0', true),
         set_config('jit', 'off', true)`,
      [String(ms)],
    );
    return await fn(tx);
  });
}
