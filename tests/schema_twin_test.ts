/**
 * Schema twin: Spool's migrations 1–20 must build exactly the schema that
 * graphile-worker 0.18.0 builds. Schema A is migrated by Spool, schema B by
 * graphile-worker's own `runMigrations`, and both are compared through
 * pg_catalog. A third schema is migrated part way by graphile-worker's SQL
 * files and finished by Spool.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { runMigrations as graphileMigrate } from "graphile-worker";
import type postgres from "postgres";
import { test } from "./_harness.ts";
import { adminSql, databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";
import { HIGHEST_KNOWN_MIGRATION, migrate } from "../src/migrate/migrate.ts";
import { quoteIdent } from "../src/sql/ident.ts";

type Sql = postgres.Sql;

/** Catalog queries; `$1` is the schema name. Each row becomes one "section | …" line. */
const CATALOG: Record<string, string> = {
  relation: `
    select c.relname, c.relkind::text, c.relrowsecurity, c.relforcerowsecurity
      from pg_class c
     where c.relnamespace = (select oid from pg_namespace where nspname = $1)
       and c.relkind in ('r', 'v', 'S', 'c', 'm', 'p', 'f')`,
  column: `
    select c.relname,
           row_number() over (partition by c.oid order by a.attnum) as position,
           a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid) as default_expr,
           a.attidentity::text, a.attgenerated::text
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where c.relnamespace = (select oid from pg_namespace where nspname = $1)
       and c.relkind in ('r', 'v', 'c', 'm', 'p', 'f')
       and a.attnum > 0 and not a.attisdropped`,
  constraint: `
    select c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid)
      from pg_constraint k
      join pg_class c on c.oid = k.conrelid
     where k.connamespace = (select oid from pg_namespace where nspname = $1)`,
  index: `
    select c.relname as index_name, pg_get_indexdef(c.oid)
      from pg_index i
      join pg_class c on c.oid = i.indexrelid
     where c.relnamespace = (select oid from pg_namespace where nspname = $1)`,
  sequence_owner: `
    select s.relname, t.relname as owner_table, a.attname as owner_column, d.deptype::text
      from pg_class s
      join pg_depend d on d.objid = s.oid and d.classid = 'pg_class'::regclass
      join pg_class t on t.oid = d.refobjid
      join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
     where s.relkind = 'S'
       and s.relnamespace = (select oid from pg_namespace where nspname = $1)`,
  view: `
    select c.relname, pg_get_viewdef(c.oid)
      from pg_class c
     where c.relkind = 'v'
       and c.relnamespace = (select oid from pg_namespace where nspname = $1)`,
  function: `
    select p.proname, pg_get_function_arguments(p.oid) as args,
           pg_get_function_result(p.oid) as result, l.lanname, p.prokind::text,
           p.proisstrict, p.provolatile::text, p.prosecdef, p.proretset,
           p.proparallel::text, coalesce(array_to_string(p.proconfig, ','), '') as config
      from pg_proc p
      join pg_language l on l.oid = p.prolang
     where p.pronamespace = (select oid from pg_namespace where nspname = $1)`,
  type: `
    select t.typname, t.typtype::text
      from pg_type t
     where t.typnamespace = (select oid from pg_namespace where nspname = $1)`,
  trigger: `
    select c.relname, g.tgname
      from pg_trigger g
      join pg_class c on c.oid = g.tgrelid
     where not g.tgisinternal
       and c.relnamespace = (select oid from pg_namespace where nspname = $1)`,
  policy: `
    select c.relname, p.polname
      from pg_policy p
      join pg_class c on c.oid = p.polrelid
     where c.relnamespace = (select oid from pg_namespace where nspname = $1)`,
};

/** Every catalog fact of `schema` as sorted text lines, with the schema name replaced by `<schema>`. */
async function snapshot(sql: Sql, schema: string): Promise<string[]> {
  const normalise = (text: string) =>
    text.replaceAll(quoteIdent(schema), "<schema>").replaceAll(`${schema}.`, "<schema>.");
  const lines: string[] = [];
  for (const [section, query] of Object.entries(CATALOG)) {
    const rows = await sql.unsafe(query, [schema]);
    for (const row of rows) {
      const values = Object.values(row).map((v) => normalise(v === null ? "∅" : String(v)));
      lines.push(`${section} | ${values.join(" | ")}`);
    }
  }
  return lines.sort();
}

async function migrationRows(sql: Sql, schema: string): Promise<string[]> {
  const rows = await sql.unsafe(
    `select id, breaking from ${quoteIdent(schema)}.migrations order by id`,
  );
  return rows.map((r) => `${r.id}:${r.breaking ? "breaking" : "-"}`);
}

/**
 * Catalog lines of Spool's own objects, which graphile-worker lacks: migration 22's worker
 * registry, and Spool's indexes (named `_spool_…`, e.g. migration 23's admin index).
 */
const SPOOL_OWN = /_private_workers|worker_heartbeat|worker_deregister|_spool_/;

/** Split a snapshot into graphile-worker's objects and Spool's own additions. */
function withoutSpoolOwn(lines: string[]): { shared: string[]; own: string[] } {
  return {
    shared: lines.filter((l) => !SPOOL_OWN.test(l)),
    own: lines.filter((l) => SPOOL_OWN.test(l)),
  };
}

/** A readable diff of two line sets; empty when they are equal. */
function lineDiff(a: string[], b: string[], nameA: string, nameB: string): string {
  const setA = new Set(a);
  const setB = new Set(b);
  const onlyA = a.filter((l) => !setB.has(l)).map((l) => `  - ${l}`);
  const onlyB = b.filter((l) => !setA.has(l)).map((l) => `  + ${l}`);
  if (onlyA.length === 0 && onlyB.length === 0) return "";
  return [`only in ${nameA} (-) / only in ${nameB} (+):`, ...onlyA, ...onlyB].join("\n");
}

/** graphile-worker's own migration files, applied the way its runner does, up to `upTo`. */
async function graphilePartway(sql: Sql, schema: string, upTo: number): Promise<void> {
  const s = quoteIdent(schema);
  await sql.unsafe(`create schema ${s}`);
  await sql.unsafe(
    `create table ${s}.migrations (id int primary key, ts timestamptz default now() not null,
       breaking boolean not null default false)`,
  );
  const dir = new URL("../node_modules/graphile-worker/sql/", import.meta.url);
  for (let id = 1; id <= upTo; id++) {
    const text = readFileSync(new URL(`${String(id).padStart(6, "0")}.sql`, dir), "utf8");
    const breaking = text.startsWith("--! breaking");
    await sql.begin(async (tx) => {
      await tx.unsafe(`insert into ${s}.migrations (id, breaking) values ($1, $2)`, [id, breaking]);
      await tx.unsafe(text.replace(/:GRAPHILE_WORKER_SCHEMA\b/g, () => s));
    });
  }
}

test("schema twin: Spool migrations 1-20 build graphile-worker 0.18.0's schema", async () => {
  // A name that needs quoting on the Spool side: the placeholder must be quoted everywhere.
  const spoolSchema = `${uniqueSchema("twin_spool")}_Q"x`;
  const graphileSchema = uniqueSchema("twin_graphile");
  const sql = adminSql();
  const driver = postgresJs(databaseUrl(), { max: 2 });
  try {
    const result = await migrate(driver, { schema: spoolSchema });
    assert.equal(result.applied.length, HIGHEST_KNOWN_MIGRATION);
    await graphileMigrate({ connectionString: databaseUrl(), schema: graphileSchema });

    const { shared: a, own } = withoutSpoolOwn(await snapshot(sql, spoolSchema));
    const b = await snapshot(sql, graphileSchema);
    assert.deepEqual(
      withoutSpoolOwn(b).own,
      [],
      "graphile-worker has no object named like Spool's own",
    );
    assert.ok(own.some((l) => l.startsWith("relation | _private_workers |")), own.join("\n"));
    assert.ok(a.length > 100, `expected a full catalog, got ${a.length} lines`);
    const diff = lineDiff(a, b, "spool", "graphile-worker");
    assert.equal(diff, "", `catalogs differ\n${diff}`);

    const rowsA = await migrationRows(sql, spoolSchema);
    const rowsB = await migrationRows(sql, graphileSchema);
    assert.deepEqual(rowsA.slice(0, 20), rowsB);
    assert.equal(rowsB.length, 20);
    // Spool's own migrations (21 on) are never breaking.
    assert.deepEqual(
      rowsA.slice(20),
      Array.from({ length: HIGHEST_KNOWN_MIGRATION - 20 }, (_, i) => `${21 + i}:-`),
    );
    assert.ok(own.some((l) => l.includes("_spool_jobs_locked_by_idx")), own.join("\n"));
  } finally {
    await driver.close();
    await sql.end();
    await dropSchema(spoolSchema);
    await dropSchema(graphileSchema);
  }
});

test("schema twin: Spool continues a schema graphile-worker migrated part way", async () => {
  const graphileSchema = uniqueSchema("twin_full");
  const sql = adminSql();
  const driver = postgresJs(databaseUrl(), { max: 2 });
  const partial: string[] = [];
  try {
    await graphileMigrate({ connectionString: databaseUrl(), schema: graphileSchema });
    const reference = await snapshot(sql, graphileSchema);
    for (const upTo of [10, 15]) {
      const schema = uniqueSchema(`twin_part${upTo}`);
      partial.push(schema);
      await graphilePartway(sql, schema, upTo);
      const result = await migrate(driver, { schema });
      assert.deepEqual(
        result.applied,
        Array.from({ length: HIGHEST_KNOWN_MIGRATION - upTo }, (_, i) => upTo + 1 + i),
      );
      const diff = lineDiff(
        withoutSpoolOwn(await snapshot(sql, schema)).shared,
        reference,
        `part${upTo}+spool`,
        "graphile",
      );
      assert.equal(diff, "", `catalogs differ after continuing from ${upTo}\n${diff}`);
      assert.deepEqual(
        (await migrationRows(sql, schema)).slice(0, 20),
        await migrationRows(sql, graphileSchema),
      );
    }
  } finally {
    await driver.close();
    await sql.end();
    await dropSchema(graphileSchema);
    for (const schema of partial) await dropSchema(schema);
  }
});
