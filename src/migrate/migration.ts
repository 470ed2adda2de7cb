/**
 * One packaged migration and how its text is bound to a schema.
 *
 * @module
 */

/** A migration compiled from `migrations/NNNNNN*.sql` into `_migrations.ts`. */
export interface Migration {
  /** Its number: 1, 2, … (the `migrations.id` row it writes). */
  readonly id: number;
  /** The file name without `.sql`, e.g. `"000011"`. */
  readonly name: string;
  /** The file starts with `--! breaking-change`: older workers must stop. */
  readonly breaking: boolean;
  /** The SQL, with {@linkcode SCHEMA_PLACEHOLDER} where the schema goes. */
  readonly sql: string;
}

/** The token in migration files that stands for the (quoted) schema name. */
export const SCHEMA_PLACEHOLDER = ":SPOOL_SCHEMA";

const PLACEHOLDER_RE = /:SPOOL_SCHEMA\b/g;

/**
 * The migration's SQL with every placeholder replaced by `quotedSchema`
 * (already quoted, e.g. by `quoteIdent`).
 *
 * @example
 * ```ts
 * import { renderMigration } from "./migration.ts";
 * renderMigration({ id: 1, name: "000001", breaking: false, sql: "select 1 from :SPOOL_SCHEMA.t" }, '"w"');
 * // => 'select 1 from "w".t'
 * ```
 */
export function renderMigration(migration: Migration, quotedSchema: string): string {
  // A function replacer, so `$` in a schema name is taken literally.
  return migration.sql.replace(PLACEHOLDER_RE, () => quotedSchema);
}
