/** Test database helpers: one schema per test file, a fresh admin connection. */
import postgres from "postgres";
import { arrayTypes } from "../src/driver/_pg_array.ts";

/** The server the tests use; scripts/test.ts sets DATABASE_URL. */
export function databaseUrl(): string {
  const g = globalThis as Record<string, unknown>;
  const env = typeof g.Bun === "object"
    ? (g.Bun as { env: Record<string, string | undefined> }).env
    : Deno.env.toObject();
  return env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
}

/**
 * A postgres.js client for test setup and inspection. Close it with `.end()`.
 * Like Spool's own pools it skips postgres.js's array-type lookup, whose dropped
 * promise would fail a test whose server restarts during that lookup.
 */
export function adminSql(max = 2): postgres.Sql {
  return postgres(databaseUrl(), {
    max,
    onnotice: () => {},
    fetch_types: false,
    types: arrayTypes(),
  }) as unknown as postgres.Sql;
}

let counter = 0;

/** A schema name no other test uses: `spool_t_<label>_<random>`. */
export function uniqueSchema(label: string): string {
  const rand = Math.random().toString(36).slice(2, 8);
  return `spool_t_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${rand}${counter++}`;
}

/** Drop a schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const sql = adminSql(1);
  try {
    await sql.unsafe(`drop schema if exists "${schema.replaceAll('"', '""')}" cascade`);
  } finally {
    await sql.end();
  }
}
