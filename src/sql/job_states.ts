/**
 * Job states as one SQL definition, for listings and counts (the CLI's
 * `jobs list` and `stats`). A job is in exactly one state:
 *
 * | state       | condition                                                          |
 * | ----------- | ------------------------------------------------------------------ |
 * | `running`   | `locked_at is not null` (a worker holds it)                        |
 * | `failed`    | not locked, `attempts >= max_attempts` (permanently failed)        |
 * | `retrying`  | not locked, attempts left, `attempts > 0`, `run_at > now()`        |
 * | `scheduled` | not locked, `attempts = 0`, `run_at > now()`                       |
 * | `ready`     | not locked, attempts left, `run_at <= now()`                       |
 *
 * A ready job whose named queue is locked by another job still counts as
 * ready (it runs as soon as the queue is free). Completed jobs are deleted,
 * so there is no "completed" state.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";
import { jobNamesResolve, type JobRow, jobRowColumns, jobRowJoins } from "./job_row.ts";

/** The states a job can be in (see the module doc). */
export const JOB_STATES = ["ready", "scheduled", "retrying", "running", "failed"] as const;
/** One of {@linkcode JOB_STATES}. */
export type JobState = typeof JOB_STATES[number];

/** The SQL expression giving the state of `_private_jobs` row `a` (run_at against `now()`). */
function stateExpression(a: string): string {
  return `case
    when ${a}.locked_at is not null then 'running'
    when ${a}.attempts >= ${a}.max_attempts then 'failed'
    when ${a}.run_at > now() and ${a}.attempts > 0 then 'retrying'
    when ${a}.run_at > now() then 'scheduled'
    else 'ready' end`;
}

/** Filters of {@linkcode jobsList}; every field narrows the list (all are ANDed). */
export interface JobListFilter {
  states?: readonly JobState[];
  tasks?: readonly string[];
  queues?: readonly string[];
  keys?: readonly string[];
  /** `locked_by` values. */
  workers?: readonly string[];
  /** Job ids. */
  ids?: readonly string[];
  /** Only jobs with an id greater than this (paging). */
  afterId?: string;
  /** At most this many rows. */
  limit: number;
}

/** A job row with its state. */
export type JobRowWithState = JobRow & { state: JobState };

/** Jobs matching `filter`, oldest id first. */
export async function jobsList(
  q: Queryable,
  schema: string,
  filter: JobListFilter,
): Promise<JobRowWithState[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.states?.length) {
    add((n) => `${stateExpression("j")} = any(${n}::text[])`, filter.states);
  }
  if (filter.tasks?.length) add((n) => `t.identifier = any(${n}::text[])`, filter.tasks);
  if (filter.queues?.length) add((n) => `q.queue_name = any(${n}::text[])`, filter.queues);
  if (filter.keys?.length) add((n) => `j.key = any(${n}::text[])`, filter.keys);
  if (filter.workers?.length) add((n) => `j.locked_by = any(${n}::text[])`, filter.workers);
  if (filter.ids?.length) add((n) => `j.id = any(${n}::bigint[])`, filter.ids);
  if (filter.afterId !== undefined) add((n) => `j.id > ${n}::bigint`, filter.afterId);
  params.push(filter.limit);
  const { rows } = await q.query<JobRowWithState>(
    `select ${jobRowColumns("j")}, ${stateExpression("j")} as state
     from ${quoteIdent(schema)}._private_jobs j ${jobRowJoins(schema, "j")}
     ${where.length ? `where ${where.join(" and ")}` : ""}
     order by j.id limit $${params.length}::int`,
    params,
  );
  await jobNamesResolve(q, schema, rows);
  return rows;
}

/** Count of jobs in each state (every state present, 0 when none). */
export async function jobsCountByState(
  q: Queryable,
  schema: string,
): Promise<Record<JobState, number>> {
  const { rows } = await q.query<{ state: JobState; n: string }>(
    `select ${stateExpression("j")} as state, count(*) as n
     from ${quoteIdent(schema)}._private_jobs j group by 1`,
  );
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  for (const r of rows) counts[r.state] = Number(r.n);
  return counts;
}
