/**
 * A driver Spool owns whose connections can be let go while it is idle and
 * reopened on the next call: `runOnce()` on a worker that opened its own pool
 * releases it this way, so nothing keeps the process alive afterwards, and
 * `worker.utils` or another `runOnce()` still work.
 *
 * @module
 */
import type { Driver, ListenHandlers, Queryable, QueryResult, Subscription } from "./types.ts";
import { SpoolError } from "../errors.ts";

/** A {@linkcode Driver} with {@linkcode ReopenableDriver.suspend}. */
export interface ReopenableDriver extends Driver {
  /** Close the open connections now; the next call opens new ones. */
  suspend(): Promise<void>;
}

/**
 * Wrap `open` (which builds a fresh driver each call) so the driver can be
 * suspended and transparently reopened; `open` learns whether it reopens
 * after a suspension. `close()` is final.
 */
export function reopenable(
  name: string,
  open: (reopening: boolean) => Driver,
  sqlState: (error: unknown) => string | undefined,
): ReopenableDriver {
  let current: Driver | undefined;
  let closed = false;
  let suspended = false;
  // Plain (not async) wrappers: no extra promise per query on the hot path.
  const live = (): Driver | undefined => closed ? undefined : (current ??= open(suspended));
  const closedError = (): Promise<never> =>
    Promise.reject(new SpoolError("SHUTDOWN", `The ${name} driver was closed`));
  const release = async (): Promise<void> => {
    const previous = current;
    current = undefined;
    await previous?.close();
  };
  return {
    name,
    capabilities: { listen: true },
    query<R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      return live()?.query<R>(text, params) ?? closedError();
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return live()?.transaction(fn) ?? closedError();
    },
    withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
      return live()?.withConnection(fn) ?? closedError();
    },
    listen(channel: string, handlers: ListenHandlers): Promise<Subscription> {
      return live()?.listen(channel, handlers) ?? closedError();
    },
    sqlState,
    suspend(): Promise<void> {
      suspended = true;
      return release();
    },
    close(): Promise<void> {
      closed = true;
      return release();
    },
  };
}
