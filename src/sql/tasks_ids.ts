/**
 * Task identifiers → task ids (`_private_tasks`). Workers fetch by task id, so
 * each worker resolves its identifiers once and caches the result.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";

/** Parameters of {@linkcode tasksIdsGet}. */
export interface TasksIdsGetParams {
  /** Worker schema (unquoted). */
  schema: string;
  /** Task identifiers to resolve; missing ones are inserted. */
  identifiers: readonly string[];
}

/**
 * Insert the identifiers `_private_tasks` does not know yet (only where no row
 * exists, so identity values are not used up), then read the ids back.
 * Returns a map from task id to identifier.
 */
export async function tasksIdsGet(
  exec: Queryable,
  params: TasksIdsGetParams,
): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  if (params.identifiers.length === 0) return map;
  const s = quoteIdent(params.schema);
  const identifiers = [...params.identifiers];
  // Concurrent workers may insert the same identifier: "on conflict do nothing" settles the race.
  await exec.query(
    `insert into ${s}._private_tasks (identifier)
select wanted.identifier
from unnest($1::text[]) as wanted(identifier)
where not exists (
  select 1 from ${s}._private_tasks as known where known.identifier = wanted.identifier
)
on conflict do nothing`,
    [identifiers],
  );
  const { rows } = await exec.query<{ id: number; identifier: string }>(
    `select id, identifier from ${s}._private_tasks where identifier = any($1::text[])`,
    [identifiers],
  );
  for (const row of rows) map.set(Number(row.id), row.identifier);
  return map;
}
