import type { Queryable } from "./types.ts";
import { errorSqlState } from "./_sqlstate.ts";

/**
 * After `withConnection(fn)` threw, end a transaction `fn` may have left open
 * so the session goes back clean. `savepoint` succeeds only inside a
 * transaction and fails with 25P01 outside one (unlike `rollback`, which
 * would send a warning notice). Best effort: other errors are ignored.
 */
export async function rollbackIfOpen(conn: Queryable): Promise<void> {
  try {
    await conn.query("savepoint spool_cleanup_probe");
  } catch (error) {
    if (errorSqlState(error) === "25P01") return; // no transaction in progress
  }
  await conn.query("rollback").catch(() => {});
}
