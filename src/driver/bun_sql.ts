/**
 * The Bun.SQL driver: Bun's built-in PostgreSQL client, no npm dependency.
 * Bun only; under Deno creating it throws `SpoolError` code `NOT_SUPPORTED`.
 *
 * Bun 1.4's `sql.listen` keeps one dedicated LISTEN connection, re-subscribes
 * after a reconnect and runs `onlisten` again, so `capabilities.listen` is
 * true. It does not report connection errors, so `onError` is never called.
 *
 * @module
 */
import type { Driver, ListenHandlers, Queryable, QueryResult, Subscription } from "./types.ts";
import { errorSqlState } from "./_sqlstate.ts";
import { rollbackIfOpen } from "./_rollback.ts";
import { lastResult, normaliseRows } from "./_rows.ts";
import { SpoolError } from "../errors.ts";
// The driver seam's types, so this entry point documents what it returns.
export type * from "./types.ts";

// Bun's globals are not in Deno's type library; describe the parts we use.
/** Rows as Bun.SQL returns them: an array with a `count`. */
export interface BunSqlRows extends ArrayLike<Record<string, unknown>> {
  /** Rows affected or returned. */
  count?: number | null;
}

/** Anything with Bun.SQL's `unsafe`: a client, a transaction (`sql.begin`), a reserved connection. */
export interface BunSqlQueryable {
  /** Bun.SQL `unsafe(text, params)`. */
  unsafe(text: string, params?: unknown[]): PromiseLike<BunSqlRows>;
}

/** The parts of a `Bun.SQL` client the driver uses. */
export interface BunSqlClient extends BunSqlQueryable {
  /** Run `fn` in a transaction. */
  begin<T>(fn: (tx: BunSqlQueryable) => Promise<T>): Promise<T>;
  /** Take one connection out of the pool. */
  reserve(): Promise<BunSqlQueryable & { release(): void }>;
  /** LISTEN on a channel (Bun ≥ 1.4). */
  listen?(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<{ unlisten(): Promise<void> }>;
  /** Close the pool. */
  close(options?: { timeout?: number }): Promise<void>;
}

/** Options for {@linkcode bunSql} when Spool opens the pool from a URL. */
export interface BunSqlOptions {
  /** Maximum pool size (default 10). */
  max?: number;
  /** Extra `Bun.SQL` options. */
  options?: Record<string, unknown>;
}

type BunSqlConstructor = new (url: string, options?: Record<string, unknown>) => BunSqlClient;

function bunSqlConstructor(): BunSqlConstructor {
  const bun = (globalThis as { Bun?: { SQL?: BunSqlConstructor } }).Bun;
  if (typeof bun?.SQL !== "function") {
    throw new SpoolError(
      "NOT_SUPPORTED",
      "The Bun.SQL driver needs Bun (Bun.SQL was not found in this runtime); " +
        "use postgresJs(url) from @spool/worker/postgres on Deno",
    );
  }
  return bun.SQL;
}

function wrap(sql: BunSqlQueryable): Queryable {
  return {
    async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const rows = lastResult(await sql.unsafe(text, params as unknown[]));
      return { rows: normaliseRows<R>(rows), rowCount: rows.count ?? rows.length };
    },
  };
}

/**
 * A driver on Bun's built-in `Bun.SQL`. Give a URL (Spool opens and closes
 * the pool) or your own `new Bun.SQL(...)` client (never closed by Spool).
 * Rows follow the driver row convention (`int8` as string even with Bun's
 * `bigint: true`, numeric typed arrays as plain arrays).
 *
 * @example
 * ```ts
 * import { bunSql } from "@spool/worker/bun-sql";
 * const driver = bunSql("postgres://postgres@127.0.0.1:5432/test"); // Bun only
 * const { rows } = await driver.query<{ id: string }>("select 1::int8 as id");
 * console.log(rows[0].id); // "1"
 * await driver.close();
 * ```
 */
export function bunSql(urlOrClient: string | BunSqlClient, options: BunSqlOptions = {}): Driver {
  const owned = typeof urlOrClient === "string";
  const sql: BunSqlClient = typeof urlOrClient === "string"
    ? new (bunSqlConstructor())(urlOrClient, { max: options.max ?? 10, ...options.options })
    : urlOrClient;
  const canListen = typeof sql.listen === "function";
  const base = wrap(sql);
  return {
    name: "bun-sql",
    capabilities: { listen: canListen },
    query: base.query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return await sql.begin((tx) => fn(wrap(tx)));
    },
    async withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
      const reserved = await sql.reserve();
      const conn = wrap(reserved);
      try {
        return await fn(conn);
      } catch (error) {
        await rollbackIfOpen(conn);
        throw error;
      } finally {
        reserved.release();
      }
    },
    async listen(channel: string, handlers: ListenHandlers): Promise<Subscription> {
      if (!sql.listen) {
        throw new SpoolError(
          "NOT_SUPPORTED",
          "This Bun.SQL has no listen(); upgrade Bun to 1.4 or later (the worker polls meanwhile)",
        );
      }
      // Bun quotes the channel name itself and re-runs onListen after each reconnect.
      const sub = await sql.listen(
        channel,
        (payload) => handlers.onNotify(payload),
        () => handlers.onListen?.(),
      );
      return { close: () => sub.unlisten() };
    },
    sqlState: errorSqlState,
    async close(): Promise<void> {
      if (owned) await sql.close({ timeout: 5 });
    },
  };
}

/**
 * Use your own Bun.SQL transaction (or reserved connection) where Spool
 * expects a {@linkcode Queryable}, e.g. to add jobs atomically with your own writes.
 *
 * @example
 * ```ts
 * import { bunSqlTransaction } from "@spool/worker/bun-sql";
 * // Bun only:
 * // const sql = new Bun.SQL("postgres://postgres@127.0.0.1:5432/test");
 * // await sql.begin(async (tx) => {
 * //   await bunSqlTransaction(tx).query("select $1::text as t", ["inside my transaction"]);
 * // });
 * ```
 */
export function bunSqlTransaction(tx: BunSqlQueryable): Queryable {
  return wrap(tx);
}
