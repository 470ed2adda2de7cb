/**
 * The postgres.js driver (the default). Build it from a connection URL (Spool
 * owns and closes the pool), or wrap your own `postgres()` instance, which
 * Spool then never closes.
 *
 * @module
 */
import postgres from "postgres";
import type { Driver, ListenHandlers, Queryable, QueryResult, Subscription } from "./types.ts";
import { errorSqlState } from "./_sqlstate.ts";
import { rollbackIfOpen } from "./_rollback.ts";
import { lastResult, normaliseRows } from "./_rows.ts";
import { type ListenerHooks, supervisedListen } from "./_pg_listener.ts";
import { holdFetchTypesGuard } from "./_pg_fetch_types_guard.ts";
import { arrayParamsAsLiterals, arrayTypes } from "./_pg_array.ts";
import { ValidationError } from "../errors.ts";
// The driver seam's types, so this entry point documents what it returns.
export type * from "./types.ts";

/** Options for {@linkcode postgresJs}. */
export interface PostgresJsOptions {
  /** Maximum pool size when Spool opens the pool from a URL (default 10). */
  max?: number;
  /** Extra postgres.js options when Spool opens the pool from a URL. */
  options?: postgres.Options<Record<string, postgres.PostgresType>>;
  /**
   * Use server-side prepared statements for parameterised queries (much
   * faster on the hot path). Turn off behind a transaction-mode pooler such
   * as pgbouncer. Default: the client's own `prepare` setting, else `true`.
   */
  prepare?: boolean;
}

/** A postgres.js client (`postgres()` instance) of any type configuration. */
// deno-lint-ignore no-explicit-any
export type PostgresJsClient = postgres.Sql<any>;

/** Anything with postgres.js's `unsafe`: a client, a transaction (`sql.begin`), a reserved connection. */
export interface PostgresJsQueryable {
  /** postgres.js `unsafe(text, params, options)`. */
  unsafe(
    text: string,
    // deno-lint-ignore no-explicit-any
    params?: any[],
    options?: { prepare?: boolean },
    // deno-lint-ignore no-explicit-any
  ): PromiseLike<ArrayLike<any> & { count?: number | null }>;
}

function wrap(sql: PostgresJsQueryable, prepare = false): Queryable {
  return {
    async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      // Parameterless text may hold several statements (migrations), which cannot be prepared.
      const rows = lastResult(
        await sql.unsafe(text, arrayParamsAsLiterals(params), {
          prepare: prepare && params.length > 0,
        }),
      );
      return { rows: normaliseRows<R>(rows), rowCount: rows.count ?? rows.length };
    },
  };
}

/** Connection settings of a user's client, reused for Spool's own LISTEN connection. */
function connectionOptions(client: PostgresJsClient): postgres.Options<Record<string, never>> {
  const o = client.options as unknown as Record<string, unknown>;
  const keep = [
    "host",
    "port",
    "path",
    "database",
    "user",
    "pass",
    "ssl",
    "connection",
    "socket",
    "target_session_attrs",
    "connect_timeout",
    "keep_alive",
  ];
  const out: Record<string, unknown> = {};
  for (const key of keep) if (o[key] !== undefined) out[key] = o[key];
  return out as postgres.Options<Record<string, never>>;
}

function checkClient(client: PostgresJsClient): void {
  const transform = (client.options as unknown as {
    transform?: Record<string, { from?: unknown } | undefined>;
  }).transform;
  for (const part of ["column", "value", "row"]) {
    if (typeof transform?.[part]?.from === "function") {
      throw new ValidationError(
        "client",
        `a postgres() client without a "transform" option (Spool reads columns by their ` +
          `database names); create a separate client for Spool`,
      );
    }
  }
}

/**
 * A driver on postgres.js. Give a URL (Spool opens and closes the pool) or
 * your own `postgres()` client (Spool never closes it; it must not use a
 * `transform` option). LISTEN uses one extra dedicated connection per
 * subscription, which re-LISTENs after the connection drops.
 *
 * @example
 * ```ts
 * import { postgresJs } from "@spool/worker/postgres";
 * const driver = postgresJs("postgres://postgres@127.0.0.1:5432/test", { max: 5 });
 * const { rows } = await driver.query<{ one: number }>("select 1 as one");
 * console.log(rows[0].one);
 * await driver.close();
 * ```
 */
export function postgresJs(
  urlOrClient: string | PostgresJsClient,
  options: PostgresJsOptions = {},
): Driver {
  const owned = typeof urlOrClient === "string";
  if (!owned) checkClient(urlOrClient);
  const sql: PostgresJsClient = typeof urlOrClient === "string"
    ? postgres(urlOrClient, {
      max: options.max ?? 10,
      onnotice: () => {},
      // No per-connection array-type lookup: its promise is dropped (see _pg_array.ts).
      fetch_types: false,
      ...options.options,
      types: { ...arrayTypes(), ...options.options?.types },
    })
    : urlOrClient;
  const subscriptions = new Set<Subscription>();
  // A user's client may still look types up (see the guard's notes).
  const releaseGuard = holdFetchTypesGuard();
  const connectListener = (hooks: ListenerHooks) => {
    const dedicated = {
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      fetch_types: false,
      onnotice: () => {},
      onnotify: hooks.onnotify,
      onclose: hooks.onclose,
    };
    return typeof urlOrClient === "string"
      ? postgres(urlOrClient, { ...options.options, ...dedicated })
      : postgres({ ...connectionOptions(urlOrClient), ...dedicated });
  };
  const clientPrepare = (sql.options as unknown as { prepare?: boolean }).prepare;
  const prepare = options.prepare ?? clientPrepare ?? true;
  const base = wrap(sql, prepare);
  return {
    name: "postgres.js",
    capabilities: { listen: true },
    query: base.query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return await sql.begin((tx) => fn(wrap(tx, prepare))) as T;
    },
    async withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
      const reserved = await sql.reserve();
      const conn = wrap(reserved, prepare);
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
      const inner = await supervisedListen(connectListener, channel, handlers);
      const sub: Subscription = {
        async close(): Promise<void> {
          subscriptions.delete(sub);
          await inner.close();
        },
      };
      subscriptions.add(sub);
      return sub;
    },
    sqlState: errorSqlState,
    async close(): Promise<void> {
      await Promise.all([...subscriptions].map((s) => s.close()));
      try {
        if (owned) await sql.end({ timeout: 5 });
      } finally {
        releaseGuard();
      }
    },
  };
}

/**
 * Use your own postgres.js transaction (or reserved connection) where Spool
 * expects a {@linkcode Queryable}, e.g. to add jobs atomically with your own writes.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { postgresJsTransaction } from "@spool/worker/postgres";
 * const sql = postgres("postgres://postgres@127.0.0.1:5432/test");
 * await sql.begin(async (tx) => {
 *   const q = postgresJsTransaction(tx);
 *   await q.query("select $1::text as t", ["inside my transaction"]);
 * });
 * await sql.end();
 * ```
 */
export function postgresJsTransaction(tx: PostgresJsQueryable): Queryable {
  return wrap(tx);
}
