/**
 * Which of the jobs a worker believes it holds it still holds: the job row
 * is locked by it and, for a job of a named queue, so is the queue. Used
 * after a reconnect (an asynchronously committed lock can be lost in a
 * server crash) and when a heartbeat finds the worker was swept.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";

const cache = new Map<string, string>();

/** The ids among `ids` that `workerId` still holds (job and queue lock). */
export async function jobsStillHeld(
  exec: Queryable,
  params: { schema: string; workerId: string; ids: readonly string[] },
): Promise<Set<string>> {
  if (params.ids.length === 0) return new Set();
  let text = cache.get(params.schema);
  if (!text) {
    const s = quoteIdent(params.schema);
    text = `select j.id::text as id from ${s}._private_jobs j
  left join ${s}._private_job_queues q on q.id = j.job_queue_id
  where j.id = any(string_to_array($2::text, ',')::bigint[]) and j.locked_by = $1::text
    and (j.job_queue_id is null or q.locked_by = $1::text)`;
    cache.set(params.schema, text);
  }
  const { rows } = await exec.query<{ id: string }>(text, [params.workerId, params.ids.join(",")]);
  return new Set(rows.map((r) => r.id));
}
