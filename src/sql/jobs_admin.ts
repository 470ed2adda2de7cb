/**
 * Admin statements on jobs: look up, remove by key, complete, permanently
 * fail, reschedule, force-unlock, and the cleanup tasks. The job functions
 * skip jobs locked less than 4 hours ago, like graphile-worker.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";
import { jobNamesResolve, type JobRow, jobRowColumns, jobRowJoins } from "./job_row.ts";

async function rowsVia(
  q: Queryable,
  schema: string,
  from: string,
  params: readonly unknown[],
): Promise<JobRow[]> {
  const { rows } = await q.query<JobRow>(
    `select ${jobRowColumns("j")} from ${from} j ${jobRowJoins(schema, "j")} order by j.id`,
    params,
  );
  const found = rows.filter((r) => r.id != null);
  await jobNamesResolve(q, schema, found);
  return found;
}

/** One job by id, or null. */
export async function jobGet(q: Queryable, schema: string, id: string): Promise<JobRow | null> {
  const s = quoteIdent(schema);
  const { rows } = await q.query<JobRow>(
    `select ${jobRowColumns("j")} from ${s}._private_jobs j ${jobRowJoins(schema, "j")}
     where j.id = $1::bigint`,
    [id],
  );
  return rows[0] ?? null;
}

/** The job holding `key`, or null. */
export async function jobGetByKey(
  q: Queryable,
  schema: string,
  key: string,
): Promise<JobRow | null> {
  const s = quoteIdent(schema);
  const { rows } = await q.query<JobRow>(
    `select ${jobRowColumns("j")} from ${s}._private_jobs j ${jobRowJoins(schema, "j")}
     where j.key = $1::text`,
    [key],
  );
  return rows[0] ?? null;
}

/**
 * `<schema>.remove_job(key)`: deletes the job when unlocked, otherwise clears
 * its key and stops further attempts. Null when no job has the key.
 */
export async function jobRemove(q: Queryable, schema: string, key: string): Promise<JobRow | null> {
  const rows = await rowsVia(q, schema, `${quoteIdent(schema)}.remove_job($1::text)`, [key]);
  return rows[0] ?? null;
}

/** `<schema>.complete_jobs(ids)`: deletes the (unlocked) jobs; returns them. */
export function jobsComplete(q: Queryable, schema: string, ids: string[]): Promise<JobRow[]> {
  return rowsVia(q, schema, `${quoteIdent(schema)}.complete_jobs($1::bigint[])`, [ids]);
}

/** `<schema>.permanently_fail_jobs(ids, reason)`: attempts = max_attempts. */
export function jobsPermanentlyFail(
  q: Queryable,
  schema: string,
  ids: string[],
  reason: string | null,
): Promise<JobRow[]> {
  return rowsVia(
    q,
    schema,
    `${quoteIdent(schema)}.permanently_fail_jobs($1::bigint[], $2::text)`,
    [ids, reason],
  );
}

/** Fields {@linkcode jobsReschedule} can change; null keeps the current value. */
export interface RescheduleParams {
  runAt: Date | null;
  priority: number | null;
  attempts: number | null;
  maxAttempts: number | null;
}

/** `<schema>.reschedule_jobs(...)`. */
export function jobsReschedule(
  q: Queryable,
  schema: string,
  ids: string[],
  p: RescheduleParams,
): Promise<JobRow[]> {
  return rowsVia(
    q,
    schema,
    `${quoteIdent(schema)}.reschedule_jobs($1::bigint[], run_at => $2::timestamptz,
       priority => $3::int, attempts => $4::int, max_attempts => $5::int)`,
    [ids, p.runAt, p.priority, p.attempts, p.maxAttempts],
  );
}

/** `<schema>.force_unlock_workers(ids)`: clears locks held by these workers. */
export async function workersForceUnlock(
  q: Queryable,
  schema: string,
  workerIds: string[],
): Promise<void> {
  await q.query(`select ${quoteIdent(schema)}.force_unlock_workers($1::text[])`, [workerIds]);
}

/** Delete permanently failed jobs that nobody holds; returns how many. */
export async function jobsDeletePermafailed(q: Queryable, schema: string): Promise<number> {
  const { rowCount } = await q.query(
    `delete from ${quoteIdent(schema)}._private_jobs
     where attempts = max_attempts and locked_at is null`,
  );
  return rowCount;
}

/** Delete task identifiers no job refers to, except `keep`; returns how many. */
export async function tasksGc(q: Queryable, schema: string, keep: string[]): Promise<number> {
  const s = quoteIdent(schema);
  const { rowCount } = await q.query(
    `delete from ${s}._private_tasks t
     where not exists (select 1 from ${s}._private_jobs j where j.task_id = t.id)
     and t.identifier <> all ($1::text[])`,
    [keep],
  );
  return rowCount;
}

/** Delete unlocked queues no job refers to; returns how many. */
export async function jobQueuesGc(q: Queryable, schema: string): Promise<number> {
  const s = quoteIdent(schema);
  const { rowCount } = await q.query(
    `delete from ${s}._private_job_queues jq
     where jq.locked_at is null
     and not exists (select 1 from ${s}._private_jobs j where j.job_queue_id = jq.id)`,
  );
  return rowCount;
}
