/**
 * The postgres.js driver (the default). Build it from a connection URL, or
 * wrap your own `postgres()` instance, which Spool then never closes.
 *
 * @module
 */
import postgres from "postgres";
import type { Driver, ListenHandlers, Queryable, QueryResult, Subscription } from "./types.ts";
import { errorSqlState } from "./_sqlstate.ts";

/** Options for {@linkcode postgresJs} when Spool opens the pool. */
export interface PostgresJsOptions {
  /** Maximum pool size (default 10). */
  max?: number;
  /** Extra postgres.js options. */
  options?: postgres.Options<Record<string, postgres.PostgresType>>;
}

type Sql = postgres.Sql<Record<string, unknown>>;

function wrap(sql: Pick<Sql, "unsafe">): Queryable {
  return {
    async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
      return { rows: rows as unknown as R[], rowCount: rows.count ?? rows.length };
    },
  };
}

/**
 * A driver on postgres.js.
 *
 * @example
 * ```ts
 * import { postgresJs } from "@spool/worker/postgres";
 * const driver = postgresJs("postgres://postgres@127.0.0.1:5432/test");
 * await driver.close();
 * ```
 */
export function postgresJs(urlOrClient: string | Sql, options: PostgresJsOptions = {}): Driver {
  const owned = typeof urlOrClient === "string";
  const sql: Sql = typeof urlOrClient === "string"
    ? postgres(urlOrClient, {
      max: options.max ?? 10,
      onnotice: () => {},
      ...options.options,
    }) as unknown as Sql
    : urlOrClient;
  const base = wrap(sql);
  return {
    name: "postgres.js",
    capabilities: { listen: true },
    query: base.query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return await sql.begin((tx) => fn(wrap(tx))) as T;
    },
    async withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
      const reserved = await sql.reserve();
      try {
        return await fn(wrap(reserved));
      } finally {
        reserved.release();
      }
    },
    async listen(channel: string, handlers: ListenHandlers): Promise<Subscription> {
      const sub = await sql.listen(
        channel,
        (payload) => handlers.onNotify(payload),
        () => handlers.onListen?.(),
      );
      return { close: () => sub.unlisten() };
    },
    sqlState: errorSqlState,
    async close(): Promise<void> {
      if (owned) await sql.end({ timeout: 5 });
    },
  };
}
