/** The migrator: fresh install, idempotence, concurrency, quoting, newer schemas, migration 11's guard. */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { adminSql, databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";
import { MigrationError } from "../src/errors.ts";
import type { Logger } from "../src/logger.ts";
import { BREAKING_MIGRATIONS, HIGHEST_KNOWN_MIGRATION, migrate } from "../src/migrate/migrate.ts";
import { runMigrations } from "../src/migrate/_runner.ts";
import { MIGRATIONS } from "../src/migrate/_migrations.ts";
import { quoteIdent } from "../src/sql/ident.ts";

const ALL_IDS = Array.from({ length: HIGHEST_KNOWN_MIGRATION }, (_, i) => i + 1);

function captureLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug() {},
    info() {},
    warn(message: string) {
      warnings.push(message);
    },
    error() {},
  };
}

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("migrate: fresh schema gets all migrations, breaking flags, and worker:migrate notifications that announce nothing as breaking", async () => {
  const schema = uniqueSchema("migrate_fresh");
  const driver = postgresJs(databaseUrl(), { max: 3 });
  const sql = adminSql();
  const notes: { migrationNumber: number; breaking: boolean; schema?: string }[] = [];
  const sub = await driver.listen("worker:migrate", {
    onNotify: (payload) => notes.push(JSON.parse(payload)),
  });
  try {
    assert.equal(HIGHEST_KNOWN_MIGRATION, 24);
    assert.deepEqual([...BREAKING_MIGRATIONS], [1, 3, 11, 13, 14, 16, 19]);
    const result = await migrate(driver, { schema });
    assert.deepEqual(result.applied, ALL_IDS);
    assert.deepEqual(result.appliedElsewhere, []);
    assert.equal(result.previous, null);

    const rows = await sql.unsafe(
      `select id, breaking from ${quoteIdent(schema)}.migrations order by id`,
    );
    assert.deepEqual(rows.map((r) => r.id), ALL_IDS);
    assert.deepEqual(rows.filter((r) => r.breaking).map((r) => r.id), [1, 3, 11, 13, 14, 16, 19]);

    // Each notification names its schema (so workers on other schemas ignore it): keep ours.
    await waitFor(() =>
      notes.some((n) => n.schema === schema && n.migrationNumber === HIGHEST_KNOWN_MIGRATION)
    );
    const ours = notes.filter((n) => n.schema === schema);
    for (const id of ALL_IDS) {
      const note = ours.find((n) => n.migrationNumber === id);
      assert.ok(note, `no worker:migrate notification for ${id}`);
      // Nothing can run on a schema being installed; announcing "breaking" would stop
      // graphile-worker runners on other schemas of the database.
      assert.equal(note.breaking, false);
    }

    // The schema works: a job can be added through the final functions.
    const [job] = await sql.unsafe(`select * from ${quoteIdent(schema)}.add_job('hello', '{}')`);
    assert.ok(job.id);
  } finally {
    await sub.close();
    await driver.close();
    await sql.end();
    await dropSchema(schema);
  }
});

test("migrate: a second run does nothing", async () => {
  const schema = uniqueSchema("migrate_twice");
  const driver = postgresJs(databaseUrl(), { max: 2 });
  try {
    await migrate(driver, { schema });
    const again = await migrate(driver, { schema });
    assert.deepEqual(again.applied, []);
    assert.deepEqual(again.appliedElsewhere, []);
    assert.equal(again.previous, HIGHEST_KNOWN_MIGRATION);
  } finally {
    await driver.close();
    await dropSchema(schema);
  }
});

test("migrate: three concurrent migrators on one fresh schema apply each migration once", async () => {
  const schema = uniqueSchema("migrate_concurrent");
  const drivers = [1, 2, 3].map(() => postgresJs(databaseUrl(), { max: 2 }));
  const sql = adminSql();
  try {
    const results = await Promise.all(drivers.map((d) => migrate(d, { schema })));
    const applied = results.flatMap((r) => r.applied).sort((a, b) => a - b);
    assert.deepEqual(applied, ALL_IDS, "every migration applied by exactly one migrator");
    for (const r of results) {
      const seen = [
        ...r.applied,
        ...r.appliedElsewhere,
        ...(r.previous ? ALL_IDS.slice(0, r.previous) : []),
      ]
        .sort((a, b) => a - b);
      assert.deepEqual(seen, ALL_IDS, "each migrator accounts for every migration");
    }
    const rows = await sql.unsafe(
      `select count(*)::int as n from ${quoteIdent(schema)}.migrations`,
    );
    assert.equal(rows[0].n, HIGHEST_KNOWN_MIGRATION);
  } finally {
    await Promise.all(drivers.map((d) => d.close()));
    await sql.end();
    await dropSchema(schema);
  }
});

test("migrate: a schema name that needs quoting", async () => {
  const schema = `${uniqueSchema("migrate_quote")}_Odd "Name'$1`;
  const driver = postgresJs(databaseUrl(), { max: 2 });
  const sql = adminSql();
  try {
    const result = await migrate(driver, { schema });
    assert.deepEqual(result.applied, ALL_IDS);
    const s = quoteIdent(schema);
    const [job] = await sql.unsafe(
      `select * from ${s}.add_job('t', '[1]', job_key => 'k', queue_name => 'q')`,
    );
    const [again] = await sql.unsafe(`select * from ${s}.add_job('t', '[2]', job_key => 'k')`);
    assert.equal(again.id, job.id);
    assert.deepEqual(again.payload, [1, 2]);
    const [removed] = await sql.unsafe(`select * from ${s}.remove_job('k')`);
    assert.equal(removed.id, job.id);
    const [dedupe] = await sql.unsafe(
      `select * from ${s}.add_job('t', job_key => 'd', job_key_mode => 'unsafe_dedupe')`,
    );
    assert.ok(dedupe.id);
  } finally {
    await driver.close();
    await sql.end();
    await dropSchema(schema);
  }
});

test("migrate: a newer breaking migration in the database is refused", async () => {
  const schema = uniqueSchema("migrate_newer_breaking");
  const driver = postgresJs(databaseUrl(), { max: 2 });
  const sql = adminSql();
  try {
    await migrate(driver, { schema });
    await sql.unsafe(
      `insert into ${quoteIdent(schema)}.migrations (id, breaking) values (999, true)`,
    );
    await assert.rejects(
      () => migrate(driver, { schema }),
      (e: unknown) => {
        assert.ok(e instanceof MigrationError, String(e));
        assert.match(e.message, /999/);
        assert.match(e.message, new RegExp(`\\b${HIGHEST_KNOWN_MIGRATION}\\b`));
        assert.match(e.message, /upgrade Spool/i);
        return true;
      },
    );
  } finally {
    await driver.close();
    await sql.end();
    await dropSchema(schema);
  }
});

test("migrate: a newer non-breaking migration warns and continues", async () => {
  const schema = uniqueSchema("migrate_newer_ok");
  const driver = postgresJs(databaseUrl(), { max: 2 });
  const sql = adminSql();
  try {
    await migrate(driver, { schema });
    await sql.unsafe(
      `insert into ${quoteIdent(schema)}.migrations (id, breaking) values ($1, false)`,
      [HIGHEST_KNOWN_MIGRATION + 1],
    );
    const logger = captureLogger();
    const result = await migrate(driver, { schema, logger });
    assert.deepEqual(result.applied, []);
    assert.equal(result.previous, HIGHEST_KNOWN_MIGRATION + 1);
    assert.equal(logger.warnings.length, 1);
    assert.match(logger.warnings[0], new RegExp(String(HIGHEST_KNOWN_MIGRATION + 1)));
    assert.match(logger.warnings[0], new RegExp(String(HIGHEST_KNOWN_MIGRATION)));
  } finally {
    await driver.close();
    await sql.end();
    await dropSchema(schema);
  }
});

test("migrate: migration 11 refuses while jobs are locked, then runs once they are unlocked", async () => {
  const schema = uniqueSchema("migrate_m11");
  const driver = postgresJs(databaseUrl(), { max: 2 });
  const sql = adminSql();
  try {
    const first = await runMigrations(driver, { schema }, MIGRATIONS.slice(0, 10));
    assert.deepEqual(first.applied, ALL_IDS.slice(0, 10));
    const notes: { migrationNumber: number; breaking: boolean }[] = [];
    const sub = await driver.listen("worker:migrate", {
      onNotify: (payload) => notes.push(JSON.parse(payload)),
    });
    const s = quoteIdent(schema);
    const [job] = await sql.unsafe(
      `select * from ${s}.add_job('legacy', '{"a":1}', job_key => 'k')`,
    );
    await sql.unsafe(
      `update ${s}.jobs set locked_at = now() - interval '1 hour', locked_by = 'worker-x' where id = $1`,
      [job.id],
    );
    await assert.rejects(
      () => migrate(driver, { schema }),
      (e: unknown) => {
        assert.ok(e instanceof MigrationError, String(e));
        assert.match(e.message, /Migration 11/);
        assert.match(e.message, /locked/);
        return true;
      },
    );
    const rows = await sql.unsafe(`select max(id)::int as m from ${s}.migrations`);
    assert.equal(rows[0].m, 10, "migration 11 was rolled back");

    await sql.unsafe(`update ${s}.jobs set locked_at = null, locked_by = null`);
    const rest = await migrate(driver, { schema });
    assert.deepEqual(rest.applied, ALL_IDS.slice(10));
    // An upgrade of a schema in use announces its breaking migrations.
    await waitFor(() => notes.some((n) => n.migrationNumber === ALL_IDS.at(-1)));
    await sub.close();
    assert.deepEqual(
      notes.filter((n) => n.breaking).map((n) => n.migrationNumber),
      BREAKING_MIGRATIONS.filter((id) => id > 10),
    );
    const [moved] = await sql.unsafe(`select * from ${s}.jobs`);
    assert.equal(moved.task_identifier, "legacy");
    assert.equal(moved.key, "k");
    const [payload] = await sql.unsafe(`select payload from ${s}._private_jobs where id = $1`, [
      moved.id,
    ]);
    assert.deepEqual(payload.payload, { a: 1 });
  } finally {
    await driver.close();
    await sql.end();
    await dropSchema(schema);
  }
});

test("migrate: an invalid schema name is rejected before touching the database", async () => {
  const driver = postgresJs(databaseUrl(), { max: 1 });
  try {
    await assert.rejects(() => migrate(driver, { schema: "" }), /schema/);
  } finally {
    await driver.close();
  }
});
