/** SQLSTATE from a driver error: postgres.js, PGlite and Bun.SQL all expose a 5-character `code`. */
export function errorSqlState(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as { code?: unknown; errno?: unknown; sqlState?: unknown };
  for (const candidate of [e.sqlState, e.code, e.errno]) {
    if (typeof candidate === "string" && /^[0-9A-Z]{5}$/.test(candidate)) return candidate;
  }
  return undefined;
}
