/**
 * What `migrate` would do, without doing it (the CLI's `migrate --dry-run`).
 *
 * @module
 */
import type { Driver } from "../driver/types.ts";
import { migrationStateRead } from "../sql/migrations_sql.ts";
import { validateSchemaName } from "../sql/ident.ts";
import { MIGRATIONS } from "./_migrations.ts";

/** A migration `migrate` would apply. */
export interface PendingMigration {
  /** Its number. */
  id: number;
  /** The file name without `.sql`. */
  name: string;
  /** Whether it is a breaking change (workers of older versions stop). */
  breaking: boolean;
}

/** The migration state of a schema and what is left to apply. */
export interface MigrationPlan {
  /** Highest migration recorded in the database, or `null` when the schema is not installed. */
  current: number | null;
  /** Migrations `migrate` would apply, in order. */
  pending: PendingMigration[];
}

// Undefined table/column/schema: nothing installed yet.
const NOT_INSTALLED = new Set(["42P01", "42703", "3F000"]);

/** Read the schema's migration state and list the pending migrations. Writes nothing. */
export async function planMigrations(driver: Driver, schema: string): Promise<MigrationPlan> {
  const name = validateSchemaName(schema);
  let current: number | null;
  try {
    current = (await migrationStateRead(driver, name)).latest;
  } catch (error) {
    if (!NOT_INSTALLED.has(driver.sqlState(error) ?? "")) throw error;
    current = null;
  }
  const pending = MIGRATIONS.filter((m) => current === null || m.id > current)
    .map((m) => ({ id: m.id, name: m.name, breaking: m.breaking }));
  return { current, pending };
}
