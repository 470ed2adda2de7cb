/**
 * The PGlite driver: PostgreSQL compiled to WASM, running in this process.
 * In memory by default (the embedded default when no database URL is given),
 * or persistent with `{ dataDir }` for a single-process queue, or your own
 * `PGlite` instance (never closed by Spool). `@electric-sql/pglite` is loaded
 * on first use, so importing this module costs nothing.
 *
 * PGlite is one database session. The driver serialises work on it:
 * `transaction` and `withConnection` hold the session until they finish, and
 * queries issued meanwhile from elsewhere wait (they never run inside the
 * transaction). Inside `transaction`, use the `tx` argument: calling the
 * driver itself there throws instead of deadlocking.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Driver, ListenHandlers, Queryable, QueryResult, Subscription } from "./types.ts";
import { errorSqlState } from "./_sqlstate.ts";
import { rollbackIfOpen } from "./_rollback.ts";
import { quoteChannel } from "./_quote.ts";
import { Mutex } from "./_mutex.ts";
import { SpoolError } from "../errors.ts";
// The driver seam's types, so this entry point documents what it returns.
export type * from "./types.ts";

/** Per-query options PGlite accepts (only `parsers` is used). */
export interface PgliteQueryOptions {
  /** Text parsers keyed by type OID. */
  parsers?: Record<number, (text: string, typeId: number) => unknown>;
}

/** Anything with PGlite's `query`: a `PGlite` instance or the `tx` of `db.transaction`. */
export interface PgliteQueryable {
  /** PGlite `query(text, params, options)`. */
  query<T>(
    text: string,
    params?: unknown[],
    options?: PgliteQueryOptions,
  ): Promise<{ rows: T[]; affectedRows?: number; rowCount?: number }>;
  /** PGlite `exec(text, options)`: simple protocol, several statements. */
  exec?(
    text: string,
    options?: PgliteQueryOptions,
  ): Promise<{ rows: unknown[]; affectedRows?: number; rowCount?: number }[]>;
}

/** The parts of a `PGlite` instance the driver uses. */
export interface PgliteClient extends PgliteQueryable {
  /** Run `fn` in a transaction on PGlite's transaction mutex. */
  transaction<T>(fn: (tx: PgliteQueryable) => Promise<T>): Promise<T>;
  /** Subscribe to every notification; returns an unsubscribe function. */
  onNotification(fn: (channel: string, payload: string) => void): () => void;
  /** Close the database. */
  close(): Promise<void>;
}

/** Options for {@linkcode pglite} when Spool creates the database. */
export interface PgliteOptions {
  /** Directory for a persistent database; omit for in memory. */
  dataDir?: string;
  /** Extra options for `PGlite.create`. */
  options?: Record<string, unknown>;
}

const INT8 = 20;
const INT8_ARRAY = 1016;

/** Parse an int8[] literal such as `{1,NULL,{2,3}}` keeping elements as strings. */
function parseInt8Array(text: string): unknown[] {
  let i = 0;
  const parseList = (): unknown[] => {
    const out: unknown[] = [];
    i++; // "{"
    let token = "";
    while (i < text.length) {
      const ch = text[i];
      if (ch === "{") {
        out.push(parseList());
        continue;
      }
      if (ch === "," || ch === "}") {
        if (token !== "") out.push(token === "NULL" ? null : token);
        token = "";
        i++;
        if (ch === "}") return out;
        continue;
      }
      token += ch;
      i++;
    }
    return out;
  };
  return text.startsWith("{") ? parseList() : [];
}

const QUERY_OPTIONS: PgliteQueryOptions = {
  parsers: { [INT8]: (text) => text, [INT8_ARRAY]: (text) => parseInt8Array(text) },
};

function wrap(q: PgliteQueryable): Queryable {
  return {
    async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      // Without parameters use the simple protocol, which accepts several statements
      // (migration scripts); only single-statement results are defined.
      const result = params.length === 0 && q.exec
        ? (await q.exec(text, QUERY_OPTIONS)).at(-1) ?? { rows: [] }
        : await q.query<R>(text, params as unknown[], QUERY_OPTIONS);
      const rowCount = typeof result.rowCount === "number"
        ? result.rowCount
        : result.affectedRows || result.rows.length;
      return { rows: result.rows as R[], rowCount };
    },
  };
}

interface Session {
  mutex: Mutex;
  listeners: Map<string, number>;
}

// Shared by every driver on the same PGlite instance.
const sessions = new WeakMap<object, Session>();
const context = new AsyncLocalStorage<{ db: object; mode: "connection" | "transaction" }>();

function sessionOf(db: object): Session {
  let s = sessions.get(db);
  if (!s) sessions.set(db, s = { mutex: new Mutex(), listeners: new Map() });
  return s;
}

function isClient(value: unknown): value is PgliteClient {
  const v = value as Partial<PgliteClient> | undefined;
  return typeof v?.query === "function" && typeof v?.transaction === "function";
}

/**
 * A driver on PGlite. No argument: a fresh in-memory database. `{ dataDir }`:
 * a persistent database in that directory (one process at a time). A `PGlite`
 * instance: used as is and never closed by Spool.
 *
 * @example
 * ```ts
 * import { pglite } from "@spool/worker/pglite";
 * const driver = pglite(); // in memory
 * const { rows } = await driver.query<{ id: string }>("select 1::int8 as id");
 * console.log(rows[0].id); // "1"
 * await driver.close();
 * ```
 */
export function pglite(dbOrOptions: PgliteClient | PgliteOptions = {}): Driver {
  const owned = !isClient(dbOrOptions);
  let opening: Promise<PgliteClient> | undefined = isClient(dbOrOptions)
    ? Promise.resolve(dbOrOptions)
    : undefined;
  let closed = false;
  const open = (): Promise<PgliteClient> => {
    if (closed) return Promise.reject(new SpoolError("DRIVER", "The PGlite driver is closed"));
    return opening ??= (async () => {
      const options = dbOrOptions as PgliteOptions;
      const { PGlite } = await import("@electric-sql/pglite");
      return await PGlite.create({ ...options.options, dataDir: options.dataDir }) as
        & PgliteClient
        & object;
    })();
  };

  // Run `fn` with the session to ourselves, unless this async context already has it.
  async function exclusive<T>(
    mode: "connection" | "transaction",
    fn: (db: PgliteClient) => Promise<T>,
  ): Promise<T> {
    const db = await open();
    const current = context.getStore();
    if (current?.db === db) {
      if (current.mode === "transaction") {
        throw new SpoolError(
          "DRIVER",
          "PGlite has one session: inside driver.transaction(fn), run queries on the tx " +
            "argument, not on the driver (this call would wait for the transaction forever)",
        );
      }
      return await context.run({ db, mode }, () => fn(db));
    }
    return await sessionOf(db).mutex.run(() => context.run({ db, mode }, () => fn(db)));
  }

  const query = async <R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> =>
    await exclusive("connection", (db) => wrap(db).query<R>(text, params));

  return {
    name: "pglite",
    capabilities: { listen: true },
    query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return await exclusive(
        "transaction",
        (db) =>
          db.transaction((tx) => context.run({ db, mode: "transaction" }, () => fn(wrap(tx)))),
      );
    },
    async withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
      return await exclusive("connection", async (db) => {
        const conn = wrap(db);
        try {
          return await fn(conn);
        } catch (error) {
          await rollbackIfOpen(conn);
          throw error;
        }
      });
    },
    async listen(channel: string, handlers: ListenHandlers): Promise<Subscription> {
      const db = await open();
      const session = sessionOf(db);
      let active = true;
      const off = db.onNotification((ch, payload) => {
        // Leave the async context of the query that delivered the notification.
        if (ch === channel && active) context.exit(() => handlers.onNotify(payload));
      });
      const count = session.listeners.get(channel) ?? 0;
      session.listeners.set(channel, count + 1);
      try {
        if (count === 0) await query(`listen ${quoteChannel(channel)}`);
      } catch (error) {
        off();
        session.listeners.set(channel, (session.listeners.get(channel) ?? 1) - 1);
        throw error;
      }
      handlers.onListen?.();
      return {
        close: async (): Promise<void> => {
          if (!active) return;
          active = false;
          off();
          const left = (session.listeners.get(channel) ?? 1) - 1;
          session.listeners.set(channel, left);
          if (left === 0 && !closed) await query(`unlisten ${quoteChannel(channel)}`);
        },
      };
    },
    sqlState: errorSqlState,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (owned && opening) await (await opening).close();
    },
  };
}

/**
 * Use your own PGlite transaction (the `tx` of `db.transaction`) where Spool
 * expects a {@linkcode Queryable}, e.g. to add jobs atomically with your own writes.
 *
 * @example
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { pgliteTransaction } from "@spool/worker/pglite";
 * const db = await PGlite.create();
 * await db.transaction(async (tx) => {
 *   await pgliteTransaction(tx).query("select $1::text as t", ["inside my transaction"]);
 * });
 * await db.close();
 * ```
 */
export function pgliteTransaction(tx: PgliteQueryable): Queryable {
  return wrap(tx);
}
