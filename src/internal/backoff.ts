/**
 * Retry delays for database calls that failed for a passing reason: the
 * connection dropped, the server is restarting, a serialization failure or
 * a deadlock. Delays grow by 1.5× per attempt up to a cap, with jitter
 * (0.5–1.5×), like graphile-worker's retry of its own DB calls; the
 * connection ranges are shorter than graphile-worker's (3 s–120 s) because a
 * restarted server usually answers again within a few seconds.
 *
 * Plain TypeScript: the caller passes the SQLSTATE it got from its driver.
 *
 * @module
 */

/** How a failed database call should be retried. */
export type FailureKind = "connection" | "conflict" | "other";

/** SQLSTATEs meaning "the connection or server went away, try again". */
const CONNECTION_SQLSTATES = new Set([
  "57P01", // admin_shutdown (pg_terminate_backend, fast shutdown)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up / shutting down)
  "08000", // connection_exception
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08003", // connection_does_not_exist
  "08004", // sqlserver_rejected_establishment_of_sqlconnection
  "08006", // connection_failure
  "08007", // transaction_resolution_unknown
  "53300", // too_many_connections
]);

/** SQLSTATEs meaning "the statement lost a race; run it again". */
const CONFLICT_SQLSTATES = new Set(["40001", "40P01"]);

/** Client-side codes (socket errors and driver codes) meaning the connection is gone. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ConnectionRefused",
  "ConnectionClosed",
  // postgres.js
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  // Bun.SQL
  "ERR_POSTGRES_CONNECTION_CLOSED",
  "ERR_POSTGRES_CONNECTION_TIMEOUT",
  "ERR_POSTGRES_IDLE_TIMEOUT",
  "ERR_POSTGRES_LIFETIME_TIMEOUT",
]);

function codesOf(error: unknown): string[] {
  const out: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const e = current as { code?: unknown; errno?: unknown; cause?: unknown };
    if (typeof e.code === "string") out.push(e.code);
    if (typeof e.errno === "string") out.push(e.errno);
    current = e.cause;
  }
  return out;
}

/**
 * Classify a failed database call. `sqlState` is what the driver's
 * `sqlState(error)` returned.
 *
 * @example
 * ```ts
 * import { classifyFailure } from "./backoff.ts";
 * classifyFailure(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }), undefined); // "connection"
 * ```
 */
export function classifyFailure(error: unknown, sqlState: string | undefined): FailureKind {
  if (sqlState !== undefined) {
    if (CONNECTION_SQLSTATES.has(sqlState)) return "connection";
    if (CONFLICT_SQLSTATES.has(sqlState)) return "conflict";
  }
  for (const code of codesOf(error)) {
    if (CONNECTION_CODES.has(code) || CONNECTION_SQLSTATES.has(code)) return "connection";
    if (CONFLICT_SQLSTATES.has(code)) return "conflict";
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/connection (?:closed|ended|terminated|refused|reset)|ECONNREFUSED|socket/i.test(message)) {
    return "connection";
  }
  return "other";
}

/** Minimum and maximum delay (ms) per kind. */
export const RETRY_DELAYS: Readonly<Record<FailureKind, { min: number; max: number }>> = {
  conflict: { min: 50, max: 5_000 },
  connection: { min: 200, max: 30_000 },
  other: { min: 1_000, max: 60_000 },
};

/**
 * The delay before retry number `attempt` (0 for the first retry):
 * `min(min·1.5^attempt, max)·(0.5 + random)`.
 *
 * @example
 * ```ts
 * import { retryDelay } from "./backoff.ts";
 * const ms = retryDelay("connection", 0); // 100–300 ms
 * ```
 */
export function retryDelay(kind: FailureKind, attempt: number, random = Math.random): number {
  const { min, max } = RETRY_DELAYS[kind];
  return Math.round(Math.min(min * 1.5 ** attempt, max) * (0.5 + random()));
}
