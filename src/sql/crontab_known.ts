/**
 * `_private_known_crontabs`: which cron identifiers a database knows, since
 * when, and the last minute each one ran. Distributed cron rests on one rule:
 * a run for minute `ts` is claimed by advancing `last_execution` to `ts`,
 * which only succeeds while the stored value is older (or missing). Any number
 * of schedulers can race for the same minute; exactly one claim succeeds.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";

/** One row of `_private_known_crontabs`. */
export interface KnownCrontabRow {
  identifier: string;
  known_since: Date;
  last_execution: Date | null;
}

/** One cron job for {@linkcode crontabsSchedule}, in the order given. */
export interface CronJobRow {
  /** Cron item identifier (the claim key). */
  identifier: string;
  /** Task identifier. */
  task: string;
  /** Full payload, already carrying `_cron`. */
  payload: unknown;
  queueName: string | null;
  maxAttempts: number | null;
  priority: number | null;
  jobKey: string | null;
  jobKeyMode: string | null;
}

/** Rows for `identifiers` (unknown ones are absent). */
export async function crontabsKnownList(
  q: Queryable,
  schema: string,
  identifiers: readonly string[],
): Promise<KnownCrontabRow[]> {
  const { rows } = await q.query<KnownCrontabRow>(
    `select identifier, known_since, last_execution
     from ${quoteIdent(schema)}._private_known_crontabs
     where identifier = any($1::text[])`,
    [identifiers],
  );
  return rows;
}

/** Record `identifiers` as known since `knownSince`; rows that exist are left alone. */
export async function crontabsRegister(
  q: Queryable,
  schema: string,
  identifiers: readonly string[],
  knownSince: Date,
): Promise<void> {
  if (identifiers.length === 0) return;
  await q.query(
    `insert into ${quoteIdent(schema)}._private_known_crontabs (identifier, known_since)
     select ident, $2::timestamptz from unnest($1::text[]) as u(ident)
     on conflict (identifier) do nothing`,
    [identifiers, knownSince],
  );
}

/**
 * Claim minute `ts` for `identifiers`: advance each `last_execution` to `ts`
 * where it is older or missing (inserting unknown identifiers, known since
 * `ts`). Returns the identifiers this call claimed. Run it in the same
 * transaction as the inserts of the claimed jobs.
 */
export async function crontabsClaim(
  q: Queryable,
  schema: string,
  ts: Date,
  identifiers: readonly string[],
): Promise<string[]> {
  if (identifiers.length === 0) return [];
  const { rows } = await q.query<{ identifier: string }>(
    `insert into ${quoteIdent(schema)}._private_known_crontabs as k
       (identifier, known_since, last_execution)
     select ident, $2::timestamptz, $2::timestamptz from unnest($1::text[]) as u(ident)
     on conflict (identifier) do update set last_execution = excluded.last_execution
       where k.last_execution is null or k.last_execution < excluded.last_execution
     returning k.identifier`,
    [identifiers, ts],
  );
  return rows.map((r) => r.identifier);
}

/**
 * Claim minute `ts` and add the claimed jobs with `<schema>.add_job`, in one
 * statement (so one round trip, and atomic). `run_at` is `ts`. Returns the
 * identifiers whose job was added.
 */
export async function crontabsSchedule(
  q: Queryable,
  schema: string,
  ts: Date,
  jobs: readonly CronJobRow[],
): Promise<string[]> {
  if (jobs.length === 0) return [];
  const s = quoteIdent(schema);
  const { rows } = await q.query<{ identifier: string }>(
    `with spec as (
       select ord, e->>'identifier' as identifier, e->>'task' as task, e->'payload' as payload,
              e->>'queueName' as queue_name, (e->>'maxAttempts')::int as max_attempts,
              (e->>'priority')::int as priority, e->>'jobKey' as job_key,
              e->>'jobKeyMode' as job_key_mode
       from json_array_elements($1::text::json) with ordinality as a(e, ord)
     ),
     claimed as (
       insert into ${s}._private_known_crontabs as k (identifier, known_since, last_execution)
       select identifier, $2::timestamptz, $2::timestamptz from spec
       on conflict (identifier) do update set last_execution = excluded.last_execution
         where k.last_execution is null or k.last_execution < excluded.last_execution
       returning k.identifier
     )
     select spec.identifier
     from spec
     join claimed on claimed.identifier = spec.identifier
     cross join lateral ${s}.add_job(
       identifier => spec.task,
       payload => spec.payload,
       queue_name => spec.queue_name,
       run_at => $2::timestamptz,
       max_attempts => spec.max_attempts,
       job_key => spec.job_key,
       priority => spec.priority,
       flags => null::text[],
       job_key_mode => spec.job_key_mode
     ) as job
     order by spec.ord`,
    [JSON.stringify(jobs), ts],
  );
  return rows.map((r) => r.identifier);
}
