/**
 * Rows of `_private_jobs` (plus the looked-up task identifier and queue name)
 * and their mapping to the public {@linkcode Job}.
 *
 * Note: a statement cannot see task or queue rows that a function it calls
 * inserted (they are newer than the statement's snapshot), so a lookup joined
 * onto `add_job(...)` comes back null for a brand-new identifier or queue.
 * Callers fill those from what they sent, or with {@linkcode jobNamesResolve}.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import type { Job } from "../utils/types.ts";
import { quoteIdent } from "./ident.ts";

/** A `_private_jobs` row with `task_identifier` and `queue_name` joined on. */
export interface JobRow {
  id: string | null;
  job_queue_id: number | null;
  task_id: number | null;
  payload: unknown;
  priority: number;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  key: string | null;
  locked_at: Date | null;
  locked_by: string | null;
  revision: number;
  flags: Record<string, unknown> | null;
  task_identifier: string | null;
  queue_name: string | null;
}

/**
 * Select list turning `<alias>` (a `_private_jobs` row) into a {@linkcode JobRow};
 * `tasks`/`queues` must be left-joined as `t` and `q`. `payload` replaces the
 * payload expression (bulk adds select `payload::text as payload_text` instead).
 */
export function jobRowColumns(alias: string, payload = `${alias}.payload`): string {
  return `${alias}.id, ${alias}.job_queue_id, ${alias}.task_id, ${payload}, ` +
    `${alias}.priority, ${alias}.run_at, ${alias}.attempts, ${alias}.max_attempts, ` +
    `${alias}.last_error, ${alias}.created_at, ${alias}.updated_at, ${alias}.key, ` +
    `${alias}.locked_at, ${alias}.locked_by, ${alias}.revision, ${alias}.flags, ` +
    `t.identifier as task_identifier, q.queue_name`;
}

/** The joins for {@linkcode jobRowColumns}. */
export function jobRowJoins(schema: string, alias: string): string {
  const s = quoteIdent(schema);
  return `left join ${s}._private_tasks t on t.id = ${alias}.task_id ` +
    `left join ${s}._private_job_queues q on q.id = ${alias}.job_queue_id`;
}

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string);
}

function toDateOrNull(value: unknown): Date | null {
  return value == null ? null : toDate(value);
}

function parseJson(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}

/** Map one complete row (identifier and queue name resolved) to a {@linkcode Job}. */
export function jobFromRow(row: JobRow): Job {
  const flags = parseJson(row.flags) as Record<string, unknown> | null;
  return {
    id: String(row.id),
    queueName: row.job_queue_id == null ? null : row.queue_name,
    taskIdentifier: row.task_identifier ?? "",
    // Drivers parse json columns; a payload that is a JSON string stays a string.
    payload: row.payload,
    priority: Number(row.priority),
    runAt: toDate(row.run_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    lastError: row.last_error,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    key: row.key,
    lockedAt: toDateOrNull(row.locked_at),
    lockedBy: row.locked_by,
    revision: Number(row.revision),
    flags: flags ? Object.keys(flags) : [],
  };
}

/**
 * Fill in task identifiers and queue names the joined lookup could not see,
 * with one extra query (only run when some are missing).
 */
export async function jobNamesResolve(
  q: Queryable,
  schema: string,
  rows: JobRow[],
): Promise<void> {
  const taskIds = new Set<number>();
  const queueIds = new Set<number>();
  for (const row of rows) {
    if (row.task_identifier == null && row.task_id != null) taskIds.add(Number(row.task_id));
    if (row.queue_name == null && row.job_queue_id != null) queueIds.add(Number(row.job_queue_id));
  }
  if (taskIds.size === 0 && queueIds.size === 0) return;
  const s = quoteIdent(schema);
  const { rows: names } = await q.query<{ kind: string; id: number; name: string }>(
    `select 't' as kind, id, identifier as name from ${s}._private_tasks where id = any($1::int[])
     union all
     select 'q', id, queue_name from ${s}._private_job_queues where id = any($2::int[])`,
    [[...taskIds], [...queueIds]],
  );
  const tasks = new Map<number, string>();
  const queues = new Map<number, string>();
  for (const n of names) (n.kind === "t" ? tasks : queues).set(Number(n.id), n.name);
  for (const row of rows) {
    if (row.task_identifier == null && row.task_id != null) {
      row.task_identifier = tasks.get(Number(row.task_id)) ?? null;
    }
    if (row.queue_name == null && row.job_queue_id != null) {
      row.queue_name = queues.get(Number(row.job_queue_id)) ?? null;
    }
  }
}
