/**
 * Picks the driver from user options: a given driver, a database URL
 * (postgres.js), or an in-memory PGlite database when neither is given.
 *
 * @module
 */
import type { Driver } from "./types.ts";
import { postgresJs } from "./postgres_js.ts";
import { pglite } from "./pglite.ts";
import { ValidationError } from "../errors.ts";
import { reopenable } from "./_reopenable.ts";
import { errorSqlState } from "./_sqlstate.ts";

/** Seconds an idle connection of a pool reopened after `suspend` stays open. */
const REOPENED_IDLE_TIMEOUT_S = 1;

/** Options {@linkcode resolveDriver} reads. */
export interface ResolveDriverOptions {
  /** A `postgres://` or `postgresql://` URL; Spool opens a postgres.js pool. */
  database?: string;
  /** A driver you built yourself; Spool never closes it. */
  driver?: Driver;
  /** Pool size for a pool opened from `database` (default 10). */
  maxPoolSize?: number;
}

/** The chosen driver and whether the caller must close it. */
export interface ResolvedDriver {
  /** The driver to use. */
  driver: Driver;
  /** True when Spool created the driver and so must close it. */
  owned: boolean;
  /**
   * For a pool opened from `database`: close its connections now; the next
   * call reconnects, and from then on connections idle for a second close. Absent when the connections cannot be let go (a driver
   * you passed, or the in-memory database, whose data lives in it).
   */
  suspend?: () => Promise<void>;
}

/**
 * Choose the driver: `driver` if given (not owned), else a postgres.js pool
 * for `database` (owned, and reconnecting after `suspend`), else an
 * in-memory PGlite database (owned).
 * Throws `ValidationError` when both are given, when `database` is not a
 * PostgreSQL URL, or when `maxPoolSize` is not a positive integer.
 *
 * @example
 * ```ts
 * import { resolveDriver } from "./resolve.ts";
 * const { driver, owned } = await resolveDriver({ database: "postgres://postgres@127.0.0.1:5432/test" });
 * if (owned) await driver.close();
 * ```
 */
// deno-lint-ignore require-await
export async function resolveDriver(options: ResolveDriverOptions): Promise<ResolvedDriver> {
  const { database, driver, maxPoolSize } = options;
  if (database !== undefined && driver !== undefined) {
    throw new ValidationError("database", "give either database or driver, not both");
  }
  if (maxPoolSize !== undefined && (!Number.isInteger(maxPoolSize) || maxPoolSize < 1)) {
    throw new ValidationError("maxPoolSize", `must be a positive integer, got ${maxPoolSize}`);
  }
  if (driver !== undefined) {
    if (typeof driver?.query !== "function" || typeof driver?.transaction !== "function") {
      throw new ValidationError("driver", "must be a Driver, e.g. postgresJs(url) or pglite()");
    }
    return { driver, owned: false };
  }
  if (database !== undefined) {
    if (typeof database !== "string" || !/^postgres(?:ql)?:\/\//i.test(database)) {
      throw new ValidationError(
        "database",
        "must be a postgres:// or postgresql:// connection URL, " +
          "e.g. postgres://user:password@localhost:5432/mydb",
      );
    }
    const pool = reopenable(
      "postgres.js",
      // Reopened after a runOnce() pass: connections idle for a second close again, so a
      // script that uses the worker afterwards still ends by itself.
      (reopening) =>
        postgresJs(database, {
          max: maxPoolSize,
          options: reopening ? { idle_timeout: REOPENED_IDLE_TIMEOUT_S } : undefined,
        }),
      errorSqlState,
    );
    return { driver: pool, owned: true, suspend: pool.suspend };
  }
  return { driver: pglite(), owned: true };
}
