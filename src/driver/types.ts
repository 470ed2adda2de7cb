/**
 * The driver seam: the only surface the SQL layer talks to. Every driver talks
 * to PostgreSQL, so SQL text is written once in `src/sql/`; drivers only move
 * text, parameters, rows, notifications and errors.
 *
 * Parameter convention (all drivers must accept these): `string`, `number`,
 * `boolean`, `null`, `Date`, and arrays of `string` or `number`. JSON values
 * are passed as JSON text and cast through text in the SQL
 * (`$1::text::json`), because some clients JSON-encode a parameter typed json.
 *
 * Row convention (pinned by the conformance suite): `bigint`/`int8` as
 * `string`, `timestamptz` as `Date`, `json`/`jsonb` parsed, `int2`/`int4` as
 * `number`, arrays as JS arrays.
 *
 * @module
 */

/** Rows returned by a query. */
export interface QueryResult<R> {
  /** The rows, mapped as described in the module doc. */
  rows: R[];
  /** Rows affected (for DML) or returned. */
  rowCount: number;
}

/** Anything that can run a parameterised query: a driver, a transaction, a connection. */
export interface Queryable {
  /** Run one statement with `$1…$n` parameters. */
  query<R = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>>;
}

/** Callbacks for a LISTEN subscription. */
export interface ListenHandlers {
  /** A notification arrived on the channel. */
  onNotify(payload: string): void;
  /** LISTEN is (again) in effect: called after the first LISTEN and after each reconnect. */
  onListen?(): void;
  /** The listening connection failed; the driver keeps retrying. */
  onError?(error: unknown): void;
}

/** A live LISTEN subscription. */
export interface Subscription {
  /** Stop listening and release the connection. */
  close(): Promise<void>;
}

/** What a driver can do beyond plain queries. */
export interface DriverCapabilities {
  /** LISTEN/NOTIFY is supported; without it the worker polls. */
  listen: boolean;
}

/** A PostgreSQL driver adapter. */
export interface Driver extends Queryable {
  /** Short name for logs: "postgres.js", "bun-sql", "pglite". */
  readonly name: string;
  /** Optional features. */
  readonly capabilities: DriverCapabilities;
  /** Run `fn` in a transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Run `fn` on one dedicated session (session-level advisory locks, SET). */
  withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T>;
  /** LISTEN on `channel`; re-LISTENs after a reconnect and calls `onListen` again. */
  listen(channel: string, handlers: ListenHandlers): Promise<Subscription>;
  /** The SQLSTATE code of a database error, if `error` is one. */
  sqlState(error: unknown): string | undefined;
  /** Close connections the driver opened. A client the user passed in is left open. */
  close(): Promise<void>;
}
