/**
 * The cheapest round trip: readiness checks use it to tell whether the
 * database answers.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";

/** Run `select 1`; rejects when the database cannot be reached. */
export async function databasePing(q: Queryable): Promise<void> {
  await q.query("select 1 as ok");
}
