/**
 * The migrator's own statements: read the migration state, install the
 * `migrations` table, record and announce one migration. The migrations
 * themselves live in `migrations/*.sql`.
 *
 * Every function takes the unquoted schema name and quotes it itself.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { quoteIdent } from "./ident.ts";

/** What the database says about its migrations. */
export interface MigrationState {
  /** Highest applied migration id, or `null` when none is recorded. */
  latest: number | null;
  /** Highest applied breaking migration id, or `null`. */
  latestBreaking: number | null;
}

/** `server_version_num` of the connected server, e.g. `150004`. */
export async function serverVersionRead(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ v: string }>(
    "select current_setting('server_version_num') as v",
  );
  return Number.parseInt(rows[0]?.v ?? "0", 10);
}

/**
 * Highest applied and highest breaking migration ids. Fails with SQLSTATE
 * 42P01 (or 42703 for a table without `breaking`) when not installed yet.
 */
export async function migrationStateRead(q: Queryable, schema: string): Promise<MigrationState> {
  const t = `${quoteIdent(schema)}.migrations`;
  const { rows } = await q.query<{ latest: number | null; latest_breaking: number | null }>(
    `select (select max(id) from ${t}) as latest,
            (select max(id) from ${t} where breaking) as latest_breaking`,
  );
  const row = rows[0];
  return {
    latest: row?.latest == null ? null : Number(row.latest),
    latestBreaking: row?.latest_breaking == null ? null : Number(row.latest_breaking),
  };
}

/**
 * Create the schema and its `migrations` table when missing (the same table
 * graphile-worker creates), and flag the known breaking ids. Run it in a
 * transaction; a concurrent installer makes it fail with 23505, 42P06, 42P07
 * or 42710, after which the caller waits briefly and reads the state again.
 */
export async function migrationTableInstall(
  q: Queryable,
  schema: string,
  breakingIds: readonly number[],
): Promise<void> {
  const s = quoteIdent(schema);
  await q.query(`create schema if not exists ${s}`);
  await q.query(
    `create table if not exists ${s}.migrations (
       id int primary key,
       ts timestamptz default now() not null
     )`,
  );
  await q.query(
    `alter table ${s}.migrations
       add column if not exists breaking boolean not null default false`,
  );
  await q.query(
    `update ${s}.migrations set breaking = true where id = any($1::int[])`,
    [[...breakingIds]],
  );
}

/**
 * Record migration `id` before running it. A primary-key clash (23505) means
 * another process has applied (or is applying) it.
 */
export async function migrationRowInsert(
  q: Queryable,
  schema: string,
  id: number,
  breaking: boolean,
): Promise<void> {
  await q.query(
    `insert into ${quoteIdent(schema)}.migrations (id, breaking) values ($1::int, $2::boolean)`,
    [id, breaking],
  );
}

/** Run the text of one migration (several statements, no parameters). */
export async function migrationScriptRun(q: Queryable, script: string): Promise<void> {
  await q.query(script);
}

/**
 * Announce a migration on `worker:migrate`, as graphile-worker does. The channel is
 * database-wide, so Spool adds the schema name (graphile-worker reads only the first two
 * fields): Spool workers on other schemas then ignore it.
 */
export async function migrationNotify(
  q: Queryable,
  id: number,
  breaking: boolean,
  schema: string,
): Promise<void> {
  await q.query("select pg_notify('worker:migrate', $1::text)", [
    JSON.stringify({ migrationNumber: id, breaking, schema }),
  ]);
}
