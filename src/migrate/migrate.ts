/**
 * The public migrator: installs or upgrades the worker schema.
 *
 * @module
 */
import type { Driver } from "../driver/types.ts";
import { BREAKING_MIGRATIONS, HIGHEST_KNOWN_MIGRATION, MIGRATIONS } from "./_migrations.ts";
import { type MigrateOptions, type MigrateResult, runMigrations } from "./_runner.ts";

export { BREAKING_MIGRATIONS, HIGHEST_KNOWN_MIGRATION };
export { MIN_SERVER_VERSION } from "./_runner.ts";
export type { MigrateOptions, MigrateResult };

/**
 * Install or upgrade the worker schema (tables, functions, the `jobs` view).
 * Migrations 1–20 give graphile-worker 0.18's schema, so a database that
 * graphile-worker set up, fully or part way, can be continued; Spool's own
 * migrations start at 21 and are never breaking. Each pending migration runs
 * in its own transaction and is announced on the `worker:migrate` channel.
 * Safe to call from several processes at once.
 *
 * Throws a `MigrationError` when the server is older than PostgreSQL 12, when
 * a migration fails, or when the database has a newer breaking migration than
 * this Spool knows. A newer non-breaking migration only logs a warning.
 *
 * @example
 * ```ts
 * import { migrate } from "@spool/worker";
 * import { postgresJs } from "@spool/worker/postgres";
 *
 * const driver = postgresJs("postgres://postgres@127.0.0.1:5432/test");
 * const result = await migrate(driver, { schema: "graphile_worker" });
 * console.log("applied", result.applied);
 * await driver.close();
 * ```
 */
export function migrate(driver: Driver, options: MigrateOptions): Promise<MigrateResult> {
  return runMigrations(driver, options, MIGRATIONS);
}
