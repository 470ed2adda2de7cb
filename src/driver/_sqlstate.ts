/**
 * SQLSTATE extraction shared by every driver.
 *
 * - postgres.js: `PostgresError.code` is the SQLSTATE.
 * - PGlite: its `DatabaseError.code` is the SQLSTATE.
 * - Bun.SQL: `PostgresError.code` is Bun's own code (`"ERR_POSTGRES_SERVER_ERROR"`); the
 *   SQLSTATE is in `errno`.
 * - Spool's own `DatabaseError` carries it as `sqlState`.
 *
 * Errors wrapped with `cause` are unwrapped (a few levels).
 */

// Five characters from [0-9A-Z]. No SQLSTATE class starts with "E", which keeps
// Node-style errno codes such as "EPIPE" out.
const SQLSTATE = /^(?!E)[0-9A-Z]{5}$/;

/** SQLSTATE of a database error from postgres.js, PGlite, Bun.SQL or Spool, else undefined. */
export function errorSqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4; depth++) {
    if (typeof current !== "object" || current === null) return undefined;
    const e = current as { code?: unknown; errno?: unknown; sqlState?: unknown; cause?: unknown };
    for (const candidate of [e.sqlState, e.code, e.errno]) {
      if (typeof candidate === "string" && SQLSTATE.test(candidate)) return candidate;
    }
    current = e.cause;
  }
  return undefined;
}
