/**
 * Reclaiming jobs a worker locked without knowing it: when the connection
 * drops while a fetch is in flight, the fetch may have committed on the
 * server although its rows never reached the worker. Those jobs are locked
 * by the worker's id, but no slot runs them. This statement hands back every
 * job locked by `workerId` except the ones the worker knows it holds: the
 * attempt is given back (`attempts - 1`, never below 0), the job and its
 * queue are unlocked; `run_at` is unchanged (the job never started).
 *
 * Locking strategy: only this worker writes its own id to `locked_by`, and
 * the worker runs this between fetches, so no fetch of its own races it;
 * rows are addressed by `locked_by`, so jobs another worker holds are never
 * touched.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";
import { queueUnlockSql } from "./_queue_unlock.ts";

/** Parameters of {@linkcode jobsReclaim}. */
export interface JobsReclaimParams {
  /** Worker schema (unquoted). */
  schema: string;
  /** The worker's id. */
  workerId: string;
  /** Jobs the worker knows it holds; these are kept. */
  knownIds: readonly string[];
}

/** Hand back jobs locked by `workerId` that are not in `knownIds`. Returns their ids. */
export async function jobsReclaim(exec: Queryable, params: JobsReclaimParams): Promise<string[]> {
  const s = quoteIdent(params.schema);
  const { rows } = await exec.query<{ id: string }>(
    `with reclaimed as (
  update ${s}._private_jobs as jobs
  set attempts = greatest(0, jobs.attempts - 1), locked_by = null, locked_at = null
  where jobs.locked_by = $1::text and jobs.id <> all($2::bigint[])
  returning jobs.id, jobs.job_queue_id
), unlocked as (
  ${queueUnlockSql(s, "reclaimed")}
)
select id::text as id from reclaimed order by id`,
    [params.workerId, [...params.knownIds]],
  );
  return rows.map((r) => r.id);
}
