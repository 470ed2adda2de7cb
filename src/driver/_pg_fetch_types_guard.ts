/**
 * A guard against one known unhandled rejection inside postgres.js 3.4.x.
 *
 * Every new postgres.js connection first looks up the server's array types
 * (`fetch_types`). The driver starts that lookup from its message handler and
 * drops the promise, so when the lookup fails (the backend is terminated, the
 * server restarts, the statement is cancelled) the rejection reaches no
 * handler and Deno, Bun and Node end the process. Upstream: porsager/postgres
 * issues 279, 1192, 1205 and 1223. The lookup failing is harmless: the pool
 * reconnects, and the query that was waiting for the connection gets the error
 * itself (Spool retries it like any other connection error).
 *
 * Pools Spool opens skip the lookup (`fetch_types: false`, see `_pg_array.ts`);
 * a user's own `postgres()` client may still run it. While a postgres.js
 * driver is open, this guard marks exactly those
 * rejections as handled: the reason must carry the lookup's own statement
 * text (postgres.js attaches it as `query`). Every other unhandled rejection
 * keeps the runtime's default behaviour.
 */
import process from "node:process";

/** The start of postgres.js's internal array-type lookup, whitespace-normalised. */
const LOOKUP = "select b.oid, b.typarray from pg_catalog.pg_type a left join pg_catalog.pg_type b";

/** True for a rejection of postgres.js's dropped array-type lookup. */
export function isFetchTypesRejection(reason: unknown): boolean {
  if (typeof reason !== "object" || reason === null) return false;
  const query = (reason as { query?: unknown }).query;
  return typeof query === "string" && query.replace(/\s+/g, " ").trim().startsWith(LOOKUP);
}

interface EventTarget {
  addEventListener(type: string, fn: (event: Event) => void): void;
  removeEventListener(type: string, fn: (event: Event) => void): void;
}

let users = 0;
let uninstall: (() => void) | undefined;

function onEvent(event: Event): void {
  if (isFetchTypesRejection((event as PromiseRejectionEvent).reason)) event.preventDefault();
}

function onProcess(reason: unknown): void {
  if (isFetchTypesRejection(reason)) return;
  // Ours is the only listener: keep the default (a crash) for every other rejection.
  if (process.listenerCount("unhandledRejection") === 1) throw reason;
}

function install(): () => void {
  const g = globalThis as unknown as { Deno?: unknown } & Partial<EventTarget>;
  if (typeof g.Deno === "object" && typeof g.addEventListener === "function") {
    // Deno dispatches `unhandledrejection` and honours preventDefault per rejection.
    g.addEventListener("unhandledrejection", onEvent);
    return () => g.removeEventListener?.("unhandledrejection", onEvent);
  }
  // Bun and Node report unhandled rejections through `process`.
  process.on("unhandledRejection", onProcess);
  return () => void process.off("unhandledRejection", onProcess);
}

/** Hold the guard while a driver is open; call the returned function (once) on close. */
export function holdFetchTypesGuard(): () => void {
  if (users++ === 0) uninstall = install();
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--users === 0) {
      uninstall?.();
      uninstall = undefined;
    }
  };
}
