/**
 * Adding jobs through the schema's own functions, so job-key semantics
 * (replace, preserve_run_at, unsafe_dedupe, array payload merging, detaching a
 * locked job's key) come from the database exactly as graphile-worker has them.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import type { NormalizedJob } from "../utils/job_options.ts";
import { quoteIdent } from "./ident.ts";
import { jobNamesResolve, type JobRow, jobRowColumns, jobRowJoins } from "./job_row.ts";
import { type AddedRow, jobsAddMatch } from "./_jobs_add_match.ts";

/**
 * Add one job with `<schema>.add_job(...)`. Returns `null` when the function
 * returned no job (a concurrent worker locked the keyed job between its steps,
 * graphile-worker issue #580).
 */
export async function jobAdd(
  q: Queryable,
  schema: string,
  job: NormalizedJob,
): Promise<JobRow | null> {
  const s = quoteIdent(schema);
  const { rows } = await q.query<JobRow>(
    `select ${jobRowColumns("j")}
     from ${s}.add_job(
       identifier => $1::text,
       payload => $2::text::json,
       queue_name => $3::text,
       run_at => $4::timestamptz,
       max_attempts => $5::int,
       job_key => $6::text,
       priority => $7::int,
       flags => $8::text[],
       job_key_mode => $9::text
     ) j
     ${jobRowJoins(schema, "j")}`,
    [
      job.identifier,
      job.payloadJson,
      job.queueName,
      job.runAt,
      job.maxAttempts,
      job.jobKey,
      job.priority,
      job.flags,
      job.jobKeyMode,
    ],
  );
  const row = rows[0];
  if (!row || row.id == null) return null;
  // Rows the call wrote carry our identifier and queue; only an unsafe_dedupe
  // hit keeps an older row's task and queue, which needs a real lookup.
  const wroteSpec = job.jobKey === null || job.jobKeyMode !== "unsafe_dedupe" ||
    Number(row.revision) === 0;
  if (wroteSpec) {
    row.task_identifier ??= job.identifier;
    if (row.job_queue_id != null) row.queue_name ??= job.queueName;
  }
  await jobNamesResolve(q, schema, [row]);
  return row;
}

function specJson(job: NormalizedJob): string {
  return `{"identifier":${JSON.stringify(job.identifier)},"payload":${job.payloadJson},` +
    `"queue_name":${JSON.stringify(job.queueName)},` +
    `"run_at":${job.runAt ? JSON.stringify(job.runAt.toISOString()) : "null"},` +
    `"max_attempts":${job.maxAttempts ?? "null"},"job_key":${JSON.stringify(job.jobKey)},` +
    `"priority":${job.priority ?? "null"},"flags":${
      job.flags ? JSON.stringify(job.flags) : "null"
    }}`;
}

/**
 * The `add_jobs` calls for a batch, as one query (`added`, rows tagged with
 * `grp` and `ordinality`): group 0 is `add_jobs(…, false)`, group 1 the keyed
 * jobs in `preserve_run_at` mode (the function takes one flag per call).
 */
function addJobsCalls(
  schema: string,
  jobs: readonly NormalizedJob[],
): { groupOf: number[]; params: string[]; added: string } {
  const s = quoteIdent(schema);
  const groups: number[][] = [[], []];
  const groupOf = jobs.map((job, i) => {
    const grp = job.jobKey !== null && job.jobKeyMode === "preserve_run_at" ? 1 : 0;
    groups[grp].push(i);
    return grp;
  });
  const params: string[] = [];
  const calls: string[] = [];
  groups.forEach((indexes, grp) => {
    if (indexes.length === 0) return;
    params.push(`[${indexes.map((i) => specJson(jobs[i])).join(",")}]`);
    calls.push(
      `select ${grp} as grp, j.* from ${s}.add_jobs(
         array(select json_populate_recordset(null::${s}.job_spec, $${params.length}::text::json)),
         ${grp === 1 ? "true" : "false"}
       ) with ordinality j`,
    );
  });
  return { groupOf, params, added: calls.join("\nunion all\n") };
}

/**
 * Add many jobs like {@linkcode jobsAdd}, returning only how many rows the
 * calls returned: no row travels back, nothing is joined or mapped.
 */
export async function jobsAddCount(
  q: Queryable,
  schema: string,
  jobs: readonly NormalizedJob[],
): Promise<number> {
  if (jobs.length === 0) return 0;
  const { params, added } = addJobsCalls(schema, jobs);
  const { rows } = await q.query<{ n: number }>(
    `with added as (${added})
     select count(*)::int as n from added where added.id is not null`,
    params,
  );
  return Number(rows[0]?.n ?? 0);
}

/** The result of {@linkcode jobsAdd}: rows in input order; `null` where no row came back. */
export type JobsAddResult = (JobRow | null)[];

/**
 * Add many jobs in ONE statement: `<schema>.add_jobs(job_spec[], preserve_run_at)`,
 * called twice in that statement when the batch mixes `preserve_run_at` keys with
 * other jobs (the function takes one flag per call). Jobs must already be
 * checked by `normalizeJobBatch` (no unsafe_dedupe, no key twice).
 */
export async function jobsAdd(
  q: Queryable,
  schema: string,
  jobs: readonly NormalizedJob[],
): Promise<JobsAddResult> {
  if (jobs.length === 0) return [];
  const { groupOf, params, added } = addJobsCalls(schema, jobs);
  const { rows } = await q.query<AddedRow & { grp: number }>(
    `with added as (${added})
     select added.grp, ${jobRowColumns("added", "added.payload::text as payload_text")}
     from added
     ${jobRowJoins(schema, "added")}
     order by added.grp, added.ordinality`,
    params,
  );
  // The payload comes back once, as text (for pairing); parse it here, as drivers parse json columns.
  for (const row of rows) row.payload = JSON.parse(row.payload_text);
  let match = jobsAddMatch(jobs, groupOf, rows);
  if (match.ambiguous) {
    // Rare: keyless specs alike but for brand-new identifiers/queues; look the names up.
    await jobNamesResolve(q, schema, rows);
    match = jobsAddMatch(jobs, groupOf, rows);
  }
  const result: JobsAddResult = new Array(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    const r = match.rowOf[i];
    if (r === -1) {
      result[i] = null;
      continue;
    }
    // The row keeps its `grp`/`payload_text` helpers (no copy: object rest is
    // slow for big batches); the JobRow readers ignore them.
    const row: JobRow = rows[r];
    row.task_identifier ??= jobs[i].identifier;
    if (row.job_queue_id != null) row.queue_name ??= jobs[i].queueName;
    result[i] = row;
  }
  return result;
}
