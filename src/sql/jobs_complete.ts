/**
 * Completing jobs: a completed job is deleted, and its named queue (if this
 * worker holds it) is unlocked in the same statement.
 *
 * Locking strategy: rows are addressed by id; the job rows are still locked
 * by this worker (`locked_by`), so no other fetcher can touch them. Like
 * graphile-worker, the delete does not re-check `locked_by`, so a job whose
 * stale lock was reset while it ran is still removed once it succeeds.
 *
 * Commit: asynchronous (see `_async_commit.ts`).
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";
import { queueUnlockSql } from "./_queue_unlock.ts";
import { ASYNC_COMMIT_CTE } from "./_async_commit.ts";

/** Parameters of {@linkcode jobsComplete}. */
export interface JobsCompleteParams {
  /** Worker schema (unquoted). */
  schema: string;
  /** The worker that ran the jobs; only queues it locked are unlocked. */
  workerId: string;
  /** Ids of the completed jobs. */
  ids: readonly string[];
}

const cache = new Map<string, string>();

function completeText(schema: string): string {
  const hit = cache.get(schema);
  if (hit) return hit;
  const s = quoteIdent(schema);
  const text = `with ${ASYNC_COMMIT_CTE}, done as (
  delete from ${s}._private_jobs as jobs
  using async_commit
  where jobs.id = any($2::bigint[])
  returning jobs.job_queue_id
)
${queueUnlockSql(s, "done")}`;
  cache.set(schema, text);
  return text;
}

/** Delete the completed jobs and unlock their queues, in one round trip. */
export async function jobsComplete(exec: Queryable, params: JobsCompleteParams): Promise<void> {
  if (params.ids.length === 0) return;
  await exec.query(completeText(params.schema), [params.workerId, [...params.ids]]);
}
