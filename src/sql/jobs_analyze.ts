/**
 * Planner statistics for the jobs table. On a table that was filled and has
 * never been analyzed, PostgreSQL has no statistics and plans a batched fetch
 * as a sequential scan plus a sort of every row (about 80 ms for 20 000 jobs
 * here, instead of under 1 ms through `jobs_main_index`). Autovacuum fixes
 * this within a minute or so; the worker does not wait for it: when a batched
 * fetch comes back full and the table has never been analyzed, it runs
 * `ANALYZE` once (sampling, non-blocking for readers and writers; skipped with
 * a warning by PostgreSQL when the role does not own the table).
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";

/** True when the jobs table of `schema` has never been analyzed (manually or by autovacuum). */
export async function jobsNeverAnalyzed(exec: Queryable, schema: string): Promise<boolean> {
  const { rows } = await exec.query<{ never: boolean }>(
    `select coalesce(s.last_analyze is null and s.last_autoanalyze is null, false) as never
     from pg_catalog.pg_stat_all_tables s
     where s.relid = $1::text::regclass`,
    [`${quoteIdent(schema)}._private_jobs`],
  );
  return rows[0]?.never === true;
}

/** Collect planner statistics for the jobs table of `schema`. */
export async function jobsAnalyze(exec: Queryable, schema: string): Promise<void> {
  await exec.query(`analyze ${quoteIdent(schema)}._private_jobs`);
}
