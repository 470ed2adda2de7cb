/**
 * Migration 21: add_job/add_jobs never return an empty row under contention on
 * one job key (graphile-worker issue #580), and every job_key mode still
 * behaves as before.
 */
import assert from "node:assert/strict";
import { runMigrations as graphileMigrate } from "graphile-worker";
import { test } from "./_harness.ts";
import { adminSql, databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";
import type { Driver } from "../src/driver/types.ts";
import { migrate } from "../src/migrate/migrate.ts";
import { quoteIdent } from "../src/sql/ident.ts";

const CALLS = 200;
const CONNECTIONS = 10;

interface LoadResult {
  calls: number;
  empty: number;
  fetched: number;
}

/**
 * `CALLS` concurrent add_job calls on one key over `CONNECTIONS` connections,
 * while two loops fetch like graphile-worker (FOR UPDATE SKIP LOCKED, set
 * locked_at/locked_by, then delete the job).
 */
async function keyLoad(schema: string): Promise<LoadResult> {
  const s = quoteIdent(schema);
  const adders = postgresJs(databaseUrl(), { max: CONNECTIONS });
  const fetchers = postgresJs(databaseUrl(), { max: 2 });
  let adding = true;
  let fetched = 0;
  const fetchLoop = async (driver: Driver, id: number) => {
    while (adding) {
      const { rows } = await driver.query<{ id: string }>(
        `with j as (
           select id from ${s}._private_jobs
            where is_available = true and run_at <= now()
            order by priority, run_at
            limit 1
            for update skip locked
         )
         update ${s}._private_jobs jobs
            set attempts = jobs.attempts + 1, locked_at = now(), locked_by = $1
           from j where jobs.id = j.id
         returning jobs.id`,
        [`pool-${id}`],
      );
      if (rows[0]) {
        fetched++;
        await driver.query(`delete from ${s}._private_jobs where id = $1::bigint`, [rows[0].id]);
      }
    }
  };
  try {
    const loops = [fetchLoop(fetchers, 1), fetchLoop(fetchers, 2)];
    const results = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        adders.query<{ id: string | null }>(
          `select id from ${s}.add_job('race', json_build_object('n', $1::int), job_key => 'hot')`,
          [i],
        )),
    );
    adding = false;
    await Promise.all(loops);
    const empty = results.filter((r) => r.rows.length !== 1 || r.rows[0].id == null).length;
    return { calls: results.length, empty, fetched };
  } finally {
    adding = false;
    await adders.close();
    await fetchers.close();
  }
}

test("add_job race (#580): no empty rows on Spool's migration 21 under contention", async () => {
  const schema = uniqueSchema("race_spool");
  const driver = postgresJs(databaseUrl(), { max: 2 });
  try {
    await migrate(driver, { schema });
    let fetched = 0;
    for (let round = 0; round < 3; round++) {
      const result = await keyLoad(schema);
      assert.equal(result.calls, CALLS);
      assert.equal(
        result.empty,
        0,
        `round ${round}: ${result.empty} add_job calls returned no job`,
      );
      fetched += result.fetched;
    }
    assert.ok(fetched > 0, "the fetch loops locked jobs while adding (the load had contention)");
  } finally {
    await driver.close();
    await dropSchema(schema);
  }
});

test("add_job race (#580): the same load returns empty rows on graphile-worker 0.18 bodies", async () => {
  const schema = uniqueSchema("race_graphile");
  try {
    await graphileMigrate({ connectionString: databaseUrl(), schema });
    let empty = 0;
    let calls = 0;
    for (let round = 0; round < 3; round++) {
      const result = await keyLoad(schema);
      empty += result.empty;
      calls += result.calls;
    }
    // deno-lint-ignore no-console
    console.log(`graphile-worker 0.18 add_job: ${empty} of ${calls} calls returned an empty row`);
    // Measured here: about a third of the calls (186-241 of 600 over four runs, Deno and
    // Bun), so the load above does reproduce the bug that migration 21 fixes.
    assert.ok(empty > 0, "the load no longer reproduces #580 on graphile-worker's bodies");
  } finally {
    await dropSchema(schema);
  }
});

test("add_job modes on migration 21 bodies", async () => {
  const schema = uniqueSchema("race_modes");
  const driver = postgresJs(databaseUrl(), { max: 3 });
  const sql = adminSql();
  const notes: { r: number; count: number }[] = [];
  const sub = await driver.listen("jobs:insert", { onNotify: (p) => notes.push(JSON.parse(p)) });
  const s = quoteIdent(schema);
  const one = async (text: string, params: unknown[] = []) => {
    const rows = await sql.unsafe(text, params as never[]);
    assert.equal(rows.length, 1);
    return rows[0];
  };
  try {
    await migrate(driver, { schema });

    // replace: same row, revision 0 then 1, new payload and run_at.
    const a1 = await one(`select * from ${s}.add_job('t', '{"v":1}', job_key => 'r')`);
    const a2 = await one(
      `select * from ${s}.add_job('t', '{"v":2}', job_key => 'r', run_at => now() + interval '1 day')`,
    );
    assert.equal(a1.revision, 0);
    assert.equal(a2.revision, 1);
    assert.equal(a2.id, a1.id);
    assert.deepEqual(a2.payload, { v: 2 });
    assert.ok(a2.run_at.getTime() > Date.now() + 23 * 3600_000);

    // preserve_run_at keeps a future run_at; replace overwrites it.
    const future = new Date(Date.now() + 3600_000);
    await one(`select * from ${s}.add_job('t', job_key => 'p', run_at => $1)`, [future]);
    const p2 = await one(
      `select * from ${s}.add_job('t', job_key => 'p', run_at => now(), job_key_mode => 'preserve_run_at')`,
    );
    assert.equal(p2.run_at.getTime(), future.getTime());
    assert.equal(p2.revision, 1);
    const p3 = await one(`select * from ${s}.add_job('t', job_key => 'p', run_at => now())`);
    assert.ok(p3.run_at.getTime() < future.getTime());

    // Array payloads concatenate; a non-array replaces.
    await one(`select * from ${s}.add_job('t', '[1]', job_key => 'arr')`);
    const arr = await one(`select * from ${s}.add_job('t', '[2, 3]', job_key => 'arr')`);
    assert.deepEqual(arr.payload, [1, 2, 3]);
    const obj = await one(`select * from ${s}.add_job('t', '{"x":1}', job_key => 'arr')`);
    assert.deepEqual(obj.payload, { x: 1 });

    // unsafe_dedupe: the existing job stays as it is (even a locked one); revision bumps.
    const d1 = await one(
      `select * from ${s}.add_job('t', '{"first":true}', job_key => 'd', job_key_mode => 'unsafe_dedupe')`,
    );
    await sql.unsafe(
      `update ${s}._private_jobs set locked_at = now(), locked_by = 'w' where id = $1`,
      [
        d1.id,
      ],
    );
    const d2 = await one(
      `select * from ${s}.add_job('t', '{"second":true}', job_key => 'd', job_key_mode => 'unsafe_dedupe')`,
    );
    assert.equal(d2.id, d1.id);
    assert.equal(d2.revision, 1);
    assert.deepEqual(d2.payload, { first: true });

    // A locked keyed job loses its key and its retries; a new job takes the key.
    const l1 = await one(
      `select * from ${s}.add_job('t', '{"old":1}', job_key => 'lk', max_attempts => 5)`,
    );
    await sql.unsafe(
      `update ${s}._private_jobs set locked_at = now(), locked_by = 'w' where id = $1`,
      [
        l1.id,
      ],
    );
    const l2 = await one(`select * from ${s}.add_job('t', '{"new":1}', job_key => 'lk')`);
    assert.notEqual(l2.id, l1.id);
    assert.equal(l2.key, "lk");
    assert.equal(l2.revision, 0);
    const old = await one(
      `select key, attempts, max_attempts from ${s}._private_jobs where id = $1`,
      [
        l1.id,
      ],
    );
    assert.equal(old.key, null);
    assert.equal(old.attempts, 5);

    // A permanently failed keyed job is detached the same way.
    const f1 = await one(`select * from ${s}.add_job('t', job_key => 'failed', max_attempts => 1)`);
    await sql.unsafe(`update ${s}._private_jobs set attempts = 1 where id = $1`, [f1.id]);
    const f2 = await one(`select * from ${s}.add_job('t', job_key => 'failed')`);
    assert.notEqual(f2.id, f1.id);

    // Invalid mode: errcode GWBKM.
    await assert.rejects(
      () => sql.unsafe(`select * from ${s}.add_job('t', job_key => 'x', job_key_mode => 'nope')`),
      (e: { code?: string }) => e.code === "GWBKM",
    );

    // add_jobs: several keys at once, defaults applied, rows returned for each.
    const many = await sql.unsafe(
      `select * from ${s}.add_jobs(array[
         row('t', null, 'q1', null, null, 'm1', null, array['f'])::${s}.job_spec,
         row('t', '{"k":2}', null, null, 3, 'm2', 7, null)::${s}.job_spec,
         row('u', null, null, null, null, null, null, null)::${s}.job_spec
       ])`,
    );
    assert.equal(many.length, 3);
    const byKey = new Map(many.map((r) => [r.key, r]));
    assert.deepEqual(byKey.get("m1")?.payload, {});
    assert.deepEqual(byKey.get("m1")?.flags, { f: true });
    assert.equal(byKey.get("m1")?.max_attempts, 25);
    assert.ok(byKey.get("m1")?.job_queue_id != null);
    assert.equal(byKey.get("m2")?.priority, 7);
    assert.equal(byKey.get("m2")?.max_attempts, 3);
    assert.ok(byKey.get(null)?.id);

    // Notifications: {"r":<random>,"count":N}; remove_job sends -1. (Channels are
    // database-wide, so look for our sequence rather than an exact list.)
    const settle = Date.now() + 5000;
    while (!notes.some((n) => n.count === 3) && Date.now() < settle) {
      await new Promise((r) => setTimeout(r, 20));
    }
    notes.length = 0;
    await sql.unsafe(
      `select * from ${s}.add_jobs(array[
         row('t', null, null, null, null, null, null, null)::${s}.job_spec,
         row('t', null, null, null, null, null, null, null)::${s}.job_spec
       ])`,
    );
    await one(`select * from ${s}.add_job('t', job_key => 'nd', job_key_mode => 'unsafe_dedupe')`);
    await one(`select * from ${s}.remove_job('r')`);
    const deadline = Date.now() + 5000;
    while (!notes.some((n) => n.count === -1) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const counts = notes.map((n) => n.count);
    const at2 = counts.indexOf(2);
    const at1 = counts.indexOf(1, at2 + 1);
    const atMinus = counts.indexOf(-1, at1 + 1);
    assert.ok(at2 >= 0 && at1 > at2 && atMinus > at1, `counts seen: ${counts.join(",")}`);
    for (const n of notes) {
      assert.deepEqual(Object.keys(n).sort(), ["count", "r"]);
      assert.equal(typeof n.r, "number");
    }
  } finally {
    await sub.close();
    await driver.close();
    await sql.end();
    await dropSchema(schema);
  }
});
