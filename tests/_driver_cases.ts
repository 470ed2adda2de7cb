/**
 * The driver conformance cases: one list, run against every adapter by
 * tests/driver_conformance_test.ts. Each case gets a fixture whose driver
 * works in its own schema.
 */
import assert from "node:assert/strict";
import type { Driver, Queryable } from "../src/driver/types.ts";
import { SpoolError } from "../src/errors.ts";
import { adminSql } from "./_db.ts";

/** What a case receives. */
export interface Fixture {
  driver: Driver;
  /** Quoted schema name to prefix tables with. */
  s: string;
  /** Run `fn` in the user's own transaction, through the adapter's `…Transaction(tx)` wrapper. */
  userTx?: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>;
}

/** Static facts about an adapter, known before it is opened. */
export interface AdapterInfo {
  kind: "postgres.js" | "bun-sql" | "pglite";
  userClient: boolean;
}

/** One conformance case. `skip` returns a reason when the case does not apply. */
export interface Case {
  name: string;
  skip?: (a: AdapterInfo) => string | undefined;
  run: (fx: Fixture, a: AdapterInfo) => Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll until `cond()` holds; fail with `what` after `ms`. */
export async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const channelName = () => `jobs:insert:${Math.random().toString(36).slice(2, 8)}`;

async function count(q: Queryable, table: string, key: string): Promise<number> {
  const r = await q.query<{ n: number }>(`select count(*)::int4 as n from ${table} where k = $1`, [
    key,
  ]);
  return r.rows[0].n;
}

/** Start `fn` later, from outside the caller's async context, once `trigger` resolves. */
function later<T>(trigger: Promise<void>, fn: () => Promise<T>): Promise<T> {
  return trigger.then(fn);
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

export const cases: Case[] = [
  {
    name:
      "type mapping: int8 as string, timestamptz Date, json parsed, int2/int4 number, arrays, null",
    async run({ driver, s }) {
      await driver.query(`create table ${s}.types_t (
        id bigserial primary key, i2 int2, i4 int4, i8 int8, ts timestamptz, j json, jb jsonb,
        ta text[], ba bigint[], ia int4[], n text)`);
      const when = new Date("2024-05-06T07:08:09.123Z");
      const texts = ["a", "b,c", 'q"\\', "", "NULL", "{x}"];
      const inserted = await driver.query<Record<string, unknown>>(
        `insert into ${s}.types_t (i2, i4, i8, ts, j, jb, ta, ba, ia, n)
         values ($1::int2, $2::int4, $3::int8, $4::timestamptz, $5::text::json, $6::text::jsonb,
                 $7::text[], $8::bigint[], $9::int4[], $10::text) returning *`,
        [
          7,
          123456,
          "9007199254740993",
          when,
          JSON.stringify({ a: 1, b: [1, "x"] }),
          '{"c":{"d":null}}',
          texts,
          ["1", "9007199254740993"],
          [1, -2],
          null,
        ],
      );
      assert.equal(inserted.rowCount, 1);
      const row = inserted.rows[0];
      assert.equal(typeof row.id, "string");
      assert.match(row.id as string, /^[0-9]+$/);
      assert.equal(row.i2, 7);
      assert.equal(row.i4, 123456);
      assert.equal(row.i8, "9007199254740993");
      assert.ok(row.ts instanceof Date, "timestamptz is a Date");
      assert.equal((row.ts as Date).getTime(), when.getTime());
      assert.deepEqual(row.j, { a: 1, b: [1, "x"] });
      assert.deepEqual(row.jb, { c: { d: null } });
      assert.deepEqual(row.ta, texts);
      assert.deepEqual(row.ba, ["1", "9007199254740993"]);
      assert.deepEqual(row.ia, [1, -2]);
      assert.equal(row.n, null);
      const r = await driver.query<Record<string, unknown>>(
        `select null::int8 as a, null::json as b, null::text[] as c, $1::bigint[] as d,
                $2::text[] as e, $3::bool as t, $4::bool as f, 2147483648::int8 as big,
                array[[1,2],[3,4]]::int8[] as m`,
        [[1, 2], [], true, false],
      );
      assert.deepEqual(r.rows, [{
        a: null,
        b: null,
        c: null,
        d: ["1", "2"],
        e: [],
        t: true,
        f: false,
        big: "2147483648",
        m: [["1", "2"], ["3", "4"]],
      }]);
    },
  },
  {
    name: "JSON parameter cast $1::text::json comes back parsed",
    async run({ driver }) {
      const value = { a: [1, "two", { three: 3 }], b: null, c: 'ü"\\' };
      const r = await driver.query<{ j: unknown; jb: unknown; str: unknown }>(
        "select $1::text::json as j, $1::text::jsonb as jb, $2::text::json as str",
        [JSON.stringify(value), JSON.stringify("hi")],
      );
      assert.deepEqual(r.rows[0], { j: value, jb: value, str: "hi" });
    },
  },
  {
    name: "a parameterless query may hold several statements (scripts); single ones give rowCount",
    async run({ driver, s }) {
      await driver.query(
        `create table ${s}.multi_t (x int4); insert into ${s}.multi_t values (1), (2);
         insert into ${s}.multi_t values (3)`,
      );
      const all = await driver.query<{ x: number }>(`select x from ${s}.multi_t order by x`);
      assert.deepEqual(all.rows, [{ x: 1 }, { x: 2 }, { x: 3 }]);
      const failing = await driver.transaction((tx) =>
        tx.query(`insert into ${s}.multi_t values (4); select 1/0`)
      ).then(() => undefined, (e) => e);
      assert.equal(driver.sqlState(failing), "22012");
      assert.equal((await driver.query(`select x from ${s}.multi_t where x = 4`)).rowCount, 0);
      const ins = await driver.query(`insert into ${s}.multi_t values (5), (6), (7)`);
      assert.equal(ins.rowCount, 3);
      const upd = await driver.query(`update ${s}.multi_t set x = x where x > 100`);
      assert.equal(upd.rowCount, 0);
      const plain = await driver.query<Record<string, unknown>>(
        "select 5::int8 as id, now() as ts, '[1]'::jsonb as j, array[7]::int8[] as a",
      );
      assert.equal(plain.rowCount, 1);
      assert.equal(plain.rows[0].id, "5");
      assert.ok(plain.rows[0].ts instanceof Date);
      assert.deepEqual(plain.rows[0].j, [1]);
      assert.deepEqual(plain.rows[0].a, ["7"]);
    },
  },
  {
    name: "transaction commits when fn resolves and returns its value",
    async run({ driver, s }) {
      await driver.query(`create table ${s}.tx_t (k text primary key)`);
      const out = await driver.transaction(async (tx) => {
        const r = await tx.query(`insert into ${s}.tx_t values ($1), ($2)`, ["a", "b"]);
        assert.equal(r.rowCount, 2);
        return "done";
      });
      assert.equal(out, "done");
      assert.equal(
        await count(driver, `${s}.tx_t`, "a") + await count(driver, `${s}.tx_t`, "b"),
        2,
      );
    },
  },
  {
    name: "transaction rolls back when fn throws and rethrows the error",
    async run({ driver, s }) {
      await driver.query(`create table if not exists ${s}.tx_t (k text primary key)`);
      const boom = new Error("boom");
      await assert.rejects(
        driver.transaction(async (tx) => {
          await tx.query(`insert into ${s}.tx_t values ($1)`, ["c"]);
          throw boom;
        }),
        (e) => e === boom,
      );
      assert.equal(await count(driver, `${s}.tx_t`, "c"), 0);
    },
  },
  {
    name: "a query issued elsewhere while a transaction runs is not part of it",
    async run({ driver, s }) {
      await driver.query(`create table if not exists ${s}.tx_t (k text primary key)`);
      const inserted = gate();
      const outside = later(inserted.promise, () => count(driver, `${s}.tx_t`, "iso"));
      await assert.rejects(
        driver.transaction(async (tx) => {
          await tx.query(`insert into ${s}.tx_t values ($1)`, ["iso"]);
          inserted.open();
          await sleep(50);
          throw new Error("roll back");
        }),
        /roll back/,
      );
      assert.equal(await outside, 0);
      assert.equal(await count(driver, `${s}.tx_t`, "iso"), 0);
    },
  },
  {
    name: "withConnection keeps one session (backend pid, session settings) and holds it",
    async run({ driver, s }) {
      await driver.query(`create table if not exists ${s}.tx_t (k text primary key)`);
      const began = gate();
      const outside = later(began.promise, () => count(driver, `${s}.tx_t`, "wc"));
      await driver.withConnection(async (conn) => {
        const a = await conn.query<{ pid: number }>("select pg_backend_pid() as pid");
        await conn.query("select set_config('spool.conformance', 'v1', false)");
        const b = await conn.query<{ pid: number; v: string }>(
          "select pg_backend_pid() as pid, current_setting('spool.conformance', true) as v",
        );
        assert.equal(b.rows[0].pid, a.rows[0].pid);
        assert.equal(b.rows[0].v, "v1");
        await conn.query("begin");
        await conn.query(`insert into ${s}.tx_t values ($1)`, ["wc"]);
        began.open();
        await sleep(50);
        await conn.query("rollback");
      });
      assert.equal(await outside, 0);
    },
  },
  {
    name: "withConnection rolls back a transaction fn left open when it throws",
    async run({ driver, s }, a) {
      await driver.query(`create table if not exists ${s}.tx_t (k text primary key)`);
      const boom = new Error("boom");
      const marker = `left_${Math.random().toString(36).slice(2, 8)}`;
      await assert.rejects(
        driver.withConnection(async (conn) => {
          await conn.query("begin");
          await conn.query(`insert into ${s}.tx_t values ('${marker}')`);
          throw boom;
        }),
        (e) => e === boom,
      );
      // PGlite: the one session would still see its own uncommitted row.
      assert.equal(await count(driver, `${s}.tx_t`, marker), 0);
      if (a.kind !== "pglite") {
        const admin = adminSql(1);
        try {
          const idle = await admin`select count(*)::int4 as n from pg_stat_activity
            where state like 'idle in transaction%' and strpos(query, ${marker}) > 0`;
          assert.equal(idle[0].n, 0, "no pooled session is left idle in transaction");
        } finally {
          await admin.end();
        }
      }
    },
  },
  {
    name: "LISTEN/NOTIFY delivers on a channel with a colon; close stops delivery",
    async run({ driver }) {
      assert.equal(driver.capabilities.listen, true);
      const channel = channelName();
      const got: string[] = [];
      let listens = 0;
      const sub = await driver.listen(channel, {
        onNotify: (p) => got.push(p),
        onListen: () => listens++,
      });
      assert.equal(listens, 1);
      await driver.query("select pg_notify($1, $2)", [channel, "p1"]);
      await waitFor("notification p1", () => got.includes("p1"));
      await sub.close();
      await driver.query("select pg_notify($1, $2)", [channel, "p2"]);
      await sleep(200);
      assert.deepEqual(got, ["p1"]);
    },
  },
  {
    name: "two subscriptions on one channel: closing one leaves the other",
    async run({ driver }) {
      const channel = channelName();
      const a: string[] = [];
      const b: string[] = [];
      const subA = await driver.listen(channel, { onNotify: (p) => a.push(p) });
      const subB = await driver.listen(channel, { onNotify: (p) => b.push(p) });
      await driver.query("select pg_notify($1, 'one')", [channel]);
      await waitFor("both subscribers", () => a.length === 1 && b.length === 1);
      await subA.close();
      await driver.query("select pg_notify($1, 'two')", [channel]);
      await waitFor("second subscriber", () => b.length === 2);
      assert.deepEqual(a, ["one"]);
      await subB.close();
    },
  },
  {
    name: "re-LISTEN after pg_terminate_backend: onListen fires again, notifications still arrive",
    skip: (a) =>
      a.kind === "pglite"
        ? "PGlite is one in-process session: there is no listening backend to terminate"
        : undefined,
    async run({ driver }, a) {
      const channel = channelName();
      const got: string[] = [];
      const errors: unknown[] = [];
      let listens = 0;
      const sub = await driver.listen(channel, {
        onNotify: (p) => got.push(p),
        onListen: () => listens++,
        onError: (e) => errors.push(e),
      });
      const admin = adminSql(1);
      try {
        const find = () =>
          admin`select pid from pg_stat_activity
                where pid <> pg_backend_pid() and query ilike 'listen%' and strpos(query, ${channel}) > 0`;
        let pids: { pid: number }[] = [];
        const end = Date.now() + 5000;
        while (pids.length === 0 && Date.now() < end) {
          pids = [...await find()] as { pid: number }[];
          if (pids.length === 0) await sleep(50);
        }
        assert.equal(pids.length, 1, "exactly one backend listens on the channel");
        await admin`select pg_terminate_backend(${pids[0].pid}::int4)`;
        await waitFor("onListen after reconnect", () => listens >= 2);
        await driver.query("select pg_notify($1, 'after')", [channel]);
        await waitFor("notification after reconnect", () => got.includes("after"));
        if (a.kind === "postgres.js") assert.ok(errors.length >= 1, "onError reported the drop");
      } finally {
        await admin.end();
        await sub.close();
      }
    },
  },
  {
    name: "sqlState: 22012 from 1/0, 23505 from a unique violation, undefined otherwise",
    async run({ driver, s }) {
      const err = await driver.query("select 1/0").then(() => undefined, (e) => e);
      assert.ok(err, "1/0 fails");
      assert.equal(driver.sqlState(err), "22012");
      await driver.query(`create table ${s}.uniq_t (k text primary key)`);
      await driver.query(`insert into ${s}.uniq_t values ('x')`);
      const dup = await driver.transaction((tx) => tx.query(`insert into ${s}.uniq_t values ('x')`))
        .then(() => undefined, (e) => e);
      assert.equal(driver.sqlState(dup), "23505");
      assert.equal(driver.sqlState(new Error("plain")), undefined);
      assert.equal(driver.sqlState({ code: "EPIPE" }), undefined);
      assert.equal(driver.sqlState(undefined), undefined);
    },
  },
  {
    name: "the user's own transaction as a Queryable: rollback drops the row, commit keeps it",
    skip: (a) => a.userClient ? undefined : "needs the user's own client",
    async run({ driver, s, userTx }) {
      await driver.query(`create table ${s}.user_t (k text primary key)`);
      const undo = new Error("user rollback");
      await assert.rejects(
        userTx!(async (q) => {
          await q.query(`insert into ${s}.user_t values ($1)`, ["r"]);
          assert.equal(await count(q, `${s}.user_t`, "r"), 1);
          throw undo;
        }),
        (e) => e === undo,
      );
      assert.equal(await count(driver, `${s}.user_t`, "r"), 0);
      await userTx!((q) => q.query(`insert into ${s}.user_t values ($1)`, ["c"]));
      assert.equal(await count(driver, `${s}.user_t`, "c"), 1);
    },
  },
  {
    name: "PGlite: calling the driver inside transaction(fn) throws instead of deadlocking",
    skip: (a) =>
      a.kind === "pglite" ? undefined : "PGlite only (other drivers use another connection)",
    async run({ driver }) {
      await assert.rejects(
        driver.transaction(() => driver.query("select 1")),
        (e) => e instanceof SpoolError && e.code === "DRIVER",
      );
      const r = await driver.withConnection(() => driver.query<{ one: number }>("select 1 as one"));
      assert.equal(r.rows[0].one, 1);
    },
  },
];
