/**
 * Driver conformance: the cases in _driver_cases.ts run against every adapter
 * the current runtime has (postgres.js from a URL and from a user client;
 * Bun.SQL under Bun; PGlite in memory and from a user instance), plus
 * PGlite's dataDir persistence and resolveDriver.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { runtimeName, test } from "./_harness.ts";
import { databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { type AdapterInfo, cases, type Fixture } from "./_driver_cases.ts";
import type { Driver } from "../src/driver/types.ts";
import { postgresJs, postgresJsTransaction } from "../src/driver/postgres_js.ts";
import { bunSql, type BunSqlClient, bunSqlTransaction } from "../src/driver/bun_sql.ts";
import { pglite, type PgliteClient, pgliteTransaction } from "../src/driver/pglite.ts";
import { resolveDriver } from "../src/driver/resolve.ts";
import { SpoolError, ValidationError } from "../src/errors.ts";

interface Opened {
  fx: Fixture;
  /** After driver.close(): check the owned pool is closed or the user client still works. */
  checkAfterClose(): Promise<void>;
  finish(): Promise<void>;
}

interface Adapter extends AdapterInfo {
  label: string;
  /** Why this adapter cannot run here, if it cannot. */
  unavailable?: string;
  open(schema: string): Opened | Promise<Opened>;
}

const bunOnly = runtimeName === "bun" ? undefined : "Bun.SQL exists only under Bun";
const newBunSql = (): BunSqlClient => {
  const Ctor = (globalThis as unknown as {
    Bun: { SQL: new (url: string, o?: object) => BunSqlClient };
  }).Bun.SQL;
  return new Ctor(databaseUrl(), { max: 4 });
};
const loadPglite = async (): Promise<PgliteClient> => {
  const { PGlite } = await import("@electric-sql/pglite");
  return await PGlite.create() as unknown as PgliteClient;
};

async function ownedClosed(driver: Driver): Promise<void> {
  await assert.rejects(driver.query("select 1"), "queries fail once an owned driver is closed");
}

const adapters: Adapter[] = [
  {
    label: "postgres.js (url)",
    kind: "postgres.js",
    userClient: false,
    open: (schema) => {
      const driver = postgresJs(databaseUrl(), { max: 4 });
      return {
        fx: { driver, s: schema },
        checkAfterClose: () => ownedClosed(driver),
        finish: () => dropSchema(schema),
      };
    },
  },
  {
    label: "postgres.js (user client)",
    kind: "postgres.js",
    userClient: true,
    open: (schema) => {
      const client = postgres(databaseUrl(), { max: 4, onnotice: () => {} });
      return {
        fx: {
          driver: postgresJs(client),
          s: schema,
          userTx: (fn) => client.begin((tx) => fn(postgresJsTransaction(tx))) as never,
        },
        checkAfterClose: async () => assert.equal((await client`select 1 as one`)[0].one, 1),
        finish: async () => {
          await client.end();
          await dropSchema(schema);
        },
      };
    },
  },
  {
    label: "bun-sql (url)",
    kind: "bun-sql",
    userClient: false,
    unavailable: bunOnly,
    open: (schema) => {
      const driver = bunSql(databaseUrl(), { max: 4 });
      return {
        fx: { driver, s: schema },
        checkAfterClose: () => ownedClosed(driver),
        finish: () => dropSchema(schema),
      };
    },
  },
  {
    label: "bun-sql (user client)",
    kind: "bun-sql",
    userClient: true,
    unavailable: bunOnly,
    open: (schema) => {
      const client = newBunSql();
      return {
        fx: {
          driver: bunSql(client),
          s: schema,
          userTx: (fn) => client.begin((tx) => fn(bunSqlTransaction(tx))),
        },
        checkAfterClose: async () => {
          const rows = await client.unsafe("select 1 as one");
          assert.equal(rows[0].one, 1);
        },
        finish: async () => {
          await client.close();
          await dropSchema(schema);
        },
      };
    },
  },
  {
    label: "pglite (in memory)",
    kind: "pglite",
    userClient: false,
    open: (schema) => {
      const driver = pglite();
      return {
        fx: { driver, s: schema },
        checkAfterClose: () => ownedClosed(driver),
        finish: async () => {},
      };
    },
  },
  {
    label: "pglite (user instance)",
    kind: "pglite",
    userClient: true,
    open: async (schema) => {
      const db = await loadPglite();
      return {
        fx: {
          driver: pglite(db),
          s: schema,
          userTx: (fn) => db.transaction((tx) => fn(pgliteTransaction(tx))),
        },
        checkAfterClose: async () => {
          const r = await db.query<{ one: number }>("select 1 as one");
          assert.equal(r.rows[0].one, 1);
        },
        finish: () => db.close(),
      };
    },
  },
];

for (const adapter of adapters) {
  const schema = uniqueSchema("driver");
  const quoted = `"${schema}"`;
  let opened: Promise<Opened> | undefined;
  const fixture = () =>
    opened ??= Promise.resolve(adapter.open(quoted)).then(async (o) => {
      await o.fx.driver.query(`create schema ${quoted}`);
      return o;
    });
  for (const c of cases) {
    const reason = adapter.unavailable ?? c.skip?.(adapter);
    const name = `${adapter.label}: ${c.name}${reason ? ` (skipped: ${reason})` : ""}`;
    test(name, async () => c.run((await fixture()).fx, adapter), { ignore: reason !== undefined });
  }
  const closeName = adapter.userClient
    ? "close() leaves the user's client open"
    : "close() closes the pool Spool opened";
  test(
    `${adapter.label}: ${closeName}${
      adapter.unavailable ? ` (skipped: ${adapter.unavailable})` : ""
    }`,
    async () => {
      const o = await fixture();
      try {
        await o.fx.driver.close();
        await o.checkAfterClose();
      } finally {
        await o.finish();
      }
    },
    { ignore: adapter.unavailable !== undefined },
  );
}

test("pglite ({ dataDir }): data survives close and reopen", async () => {
  const dir = await mkdtemp(join(tmpdir(), "spool-pglite-"));
  try {
    const first = pglite({ dataDir: dir });
    await first.query("create table kept (k text)");
    await first.query("insert into kept values ($1)", ["still here"]);
    await first.close();
    const second = pglite({ dataDir: dir });
    const r = await second.query<{ k: string }>("select k from kept");
    assert.deepEqual(r.rows, [{ k: "still here" }]);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  `bunSql() outside Bun throws NOT_SUPPORTED${
    runtimeName === "bun" ? " (skipped: this runtime is Bun)" : ""
  }`,
  () => {
    assert.throws(
      () => bunSql(databaseUrl()),
      (e) => e instanceof SpoolError && e.code === "NOT_SUPPORTED" && /Bun/.test(e.message),
    );
  },
  { ignore: runtimeName === "bun" },
);

test("postgresJs() refuses a user client with a column transform", async () => {
  const client = postgres(databaseUrl(), { max: 1, transform: postgres.camel });
  try {
    assert.throws(
      () => postgresJs(client),
      (e) => e instanceof ValidationError && e.field === "client",
    );
  } finally {
    await client.end();
  }
});

test("resolveDriver: driver given, URL, neither, both, bad URL", async () => {
  const mine = pglite();
  const given = await resolveDriver({ driver: mine });
  assert.equal(given.driver, mine);
  assert.equal(given.owned, false);

  const fromUrl = await resolveDriver({ database: databaseUrl(), maxPoolSize: 2 });
  assert.equal(fromUrl.owned, true);
  assert.equal(fromUrl.driver.name, "postgres.js");
  assert.equal((await fromUrl.driver.query<{ one: number }>("select 1 as one")).rows[0].one, 1);
  await fromUrl.driver.close();

  const embedded = await resolveDriver({});
  assert.equal(embedded.owned, true);
  assert.equal(embedded.driver.name, "pglite");
  assert.equal(
    (await embedded.driver.query<{ id: string }>("select 5::int8 as id")).rows[0].id,
    "5",
  );
  await embedded.driver.close();

  const isField = (field: string) => (e: unknown) =>
    e instanceof ValidationError && e.field === field;
  await assert.rejects(resolveDriver({ database: databaseUrl(), driver: mine }), (e) => {
    return isField("database")(e) && /either database or driver/.test((e as Error).message);
  });
  await assert.rejects(resolveDriver({ database: "mysql://localhost/db" }), isField("database"));
  await assert.rejects(resolveDriver({ database: "" }), isField("database"));
  await assert.rejects(
    resolveDriver({ database: databaseUrl(), maxPoolSize: 0 }),
    isField("maxPoolSize"),
  );
  await mine.close();
});
