/**
 * The migration loop, parameterised by the list of migrations so tests can
 * stop part way. {@linkcode migrate} in `migrate.ts` is the public entry.
 *
 * Concurrency (no advisory lock, same protocol as graphile-worker, so Spool
 * and graphile-worker processes may migrate one database at the same time):
 * each migration inserts its `migrations` row first, in the transaction that
 * runs it; a second process blocks on that row and then fails with 23505,
 * which means "done by someone else": it skips ahead.
 *
 * @module
 */
import type { Driver } from "../driver/types.ts";
import { MigrationError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { silentLogger } from "../logger.ts";
import { quoteIdent, validateSchemaName } from "../sql/ident.ts";
import {
  migrationNotify,
  migrationRowInsert,
  migrationScriptRun,
  type MigrationState,
  migrationStateRead,
  migrationTableInstall,
  serverVersionRead,
} from "../sql/migrations_sql.ts";
import { type Migration, renderMigration } from "./migration.ts";

/** Options of {@linkcode migrate}. */
export interface MigrateOptions {
  /** The worker schema, e.g. `"graphile_worker"`. Any name works; it is quoted. */
  schema: string;
  /** Where progress and the "newer schema" warning go (default: silent). */
  logger?: Logger;
}

/** What {@linkcode migrate} did. */
export interface MigrateResult {
  /** Migration ids this call applied, in order. */
  applied: number[];
  /** Pending ids that another process applied while this call ran. */
  appliedElsewhere: number[];
  /** The highest migration id recorded in the database before this call (`null`: none). */
  previous: number | null;
}

/** Oldest PostgreSQL accepted (`server_version_num`). */
export const MIN_SERVER_VERSION = 120000;

const NOT_INSTALLED = ["42P01", "42703", "3F000"];
const INSTALL_CLASH = ["23505", "42P06", "42P07", "42710"];
const INSTALL_ATTEMPTS = 5;

class AppliedElsewhere extends Error {}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function randomBetween(min: number, max: number): number {
  return min + Math.random() * (max - min);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function checkServerVersion(driver: Driver): Promise<void> {
  const version = await serverVersionRead(driver);
  if (!(version >= MIN_SERVER_VERSION)) {
    throw new MigrationError(
      `Spool needs PostgreSQL 12 or newer, but the server reports server_version_num ${version}. ` +
        "Upgrade PostgreSQL.",
    );
  }
}

/** Read the state, installing the schema and migrations table when missing. */
async function readOrInstall(
  driver: Driver,
  schema: string,
  breakingIds: readonly number[],
  logger: Logger,
): Promise<MigrationState> {
  for (let attempt = 1;; attempt++) {
    try {
      return await migrationStateRead(driver, schema);
    } catch (error) {
      const code = driver.sqlState(error);
      if (!code || !NOT_INSTALLED.includes(code)) {
        throw new MigrationError(
          `Could not read the migration state of schema ${quoteIdent(schema)}: ${messageOf(error)}`,
          { cause: error },
        );
      }
    }
    try {
      logger.debug("Installing the worker schema", { schema });
      await driver.transaction((tx) => migrationTableInstall(tx, schema, breakingIds));
      continue;
    } catch (error) {
      const code = driver.sqlState(error);
      if (!code || !INSTALL_CLASH.includes(code) || attempt >= INSTALL_ATTEMPTS) {
        throw new MigrationError(
          `Could not create schema ${quoteIdent(schema)} and its migrations table: ${
            messageOf(error)
          }. Check that the database user may create schemas.`,
          { cause: error },
        );
      }
      // Another process is installing at the same moment: let it finish.
      await sleep(randomBetween(100, 300) * attempt);
    }
  }
}

async function applyOne(
  driver: Driver,
  schema: string,
  migration: Migration,
  announceBreaking: boolean,
): Promise<"applied" | "elsewhere"> {
  const script = renderMigration(migration, quoteIdent(schema));
  try {
    await driver.transaction(async (tx) => {
      try {
        await migrationRowInsert(tx, schema, migration.id, migration.breaking);
      } catch (error) {
        if (driver.sqlState(error) === "23505") throw new AppliedElsewhere();
        throw error;
      }
      await migrationScriptRun(tx, script);
      await migrationNotify(tx, migration.id, migration.breaking && announceBreaking, schema);
    });
    return "applied";
  } catch (error) {
    if (error instanceof AppliedElsewhere) return "elsewhere";
    const code = driver.sqlState(error);
    if (migration.id === 11 && code === "22012") {
      throw new MigrationError(
        `Migration 11 cannot run in schema ${quoteIdent(schema)}: jobs were locked by workers ` +
          "in the last 4 hours. Stop every worker cleanly (or wait until no job is locked) and " +
          "migrate again.",
        { cause: error },
      );
    }
    throw new MigrationError(
      `Migration ${migration.id} (${migration.name}) failed in schema ${quoteIdent(schema)}` +
        `${code ? ` [SQLSTATE ${code}]` : ""}: ${messageOf(error)}. It was rolled back.`,
      { cause: error },
    );
  }
}

/**
 * Bring `options.schema` up to date with `migrations` (ids 1…n in order).
 * Internal: {@linkcode migrate} passes the packaged list.
 */
export async function runMigrations(
  driver: Driver,
  options: MigrateOptions,
  migrations: readonly Migration[],
): Promise<MigrateResult> {
  const schema = validateSchemaName(options.schema);
  const logger = options.logger ?? silentLogger;
  const highestKnown = migrations.reduce((max, m) => Math.max(max, m.id), 0);
  const breakingIds = migrations.filter((m) => m.breaking).map((m) => m.id);

  await checkServerVersion(driver);
  const state = await readOrInstall(driver, schema, breakingIds, logger);

  const applied: number[] = [];
  const appliedElsewhere: number[] = [];
  // `worker:migrate` reaches every worker on the database, whatever its schema, and
  // graphile-worker shuts down on any breaking one. No worker can be running on a
  // schema that had no migrations yet, so a fresh install announces none as breaking.
  const announceBreaking = state.latest !== null;
  for (const migration of migrations) {
    if (state.latest !== null && migration.id <= state.latest) continue;
    logger.debug(`Running ${migration.breaking ? "breaking " : ""}migration ${migration.id}`, {
      schema,
    });
    const outcome = await applyOne(driver, schema, migration, announceBreaking);
    if (outcome === "applied") applied.push(migration.id);
    else {
      logger.debug(`Migration ${migration.id} was applied by another process`, { schema });
      appliedElsewhere.push(migration.id);
    }
  }

  if (state.latestBreaking !== null && state.latestBreaking > highestKnown) {
    throw new MigrationError(
      `Schema ${quoteIdent(schema)} is at migration ${state.latest}, including breaking ` +
        `migration ${state.latestBreaking}, but this version of Spool only knows migrations up ` +
        `to ${highestKnown}. Running would be unsafe: upgrade Spool (or use the version that ` +
        "migrated this database).",
    );
  }
  if (state.latest !== null && state.latest > highestKnown) {
    logger.warn(
      `Schema ${
        quoteIdent(schema)
      } is at migration ${state.latest}, newer than the ${highestKnown} ` +
        "this version of Spool knows. The newer migrations are not breaking, so Spool continues; " +
        "upgrade Spool when you can.",
      { schema, databaseMigration: state.latest, knownMigration: highestKnown },
    );
  }
  return { applied, appliedElsewhere, previous: state.latest };
}
