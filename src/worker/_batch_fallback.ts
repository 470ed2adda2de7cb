/**
 * One-by-one fallback for batched writes: when the database rejects a batch
 * statement (one bad row, a trigger, a deadlock), the items are written one
 * at a time so that the good ones still land. Connection failures are not
 * split (every single write would fail too); they go to the caller's retries.
 *
 * Items already written are remembered for the same `items` array (the
 * completer retries a batch with the array it first passed), so a retry
 * writes only what is left.
 *
 * @module
 */
import { errorSqlState } from "../driver/_sqlstate.ts";
import type { Logger } from "../logger.ts";

/** A batch write: results per item (or `undefined` when it has none). */
export type BatchWrite<T, R> = (items: T[]) => Promise<Map<T, R> | undefined>;

/**
 * True when the database answered with an error for the statement itself
 * (so splitting the batch may help): an SQLSTATE that is not a connection
 * (08) or shutdown (57P) class.
 */
export function isStatementError(error: unknown): boolean {
  const state = errorSqlState(error);
  return state !== undefined && !state.startsWith("08") && !state.startsWith("57P");
}

/** Wrap `write` so a rejected batch is retried item by item; see the module doc. */
export function withOneByOneFallback<T, R>(
  write: BatchWrite<T, R>,
  options: { describe: string; logger: Logger; splittable?: (error: unknown) => boolean },
): BatchWrite<T, R> {
  const splittable = options.splittable ?? isStatementError;
  const carried = new WeakMap<T[], Map<T, R | undefined>>();
  return async (items) => {
    const done = carried.get(items);
    const todo = done ? items.filter((item) => !done.has(item)) : items;
    try {
      const results = await write(todo);
      if (!done) return results;
      carried.delete(items);
      return merged(done, todo, results);
    } catch (error) {
      if (todo.length < 2 || !splittable(error)) throw error;
      options.logger.warn(
        `Could not ${options.describe} ${todo.length} jobs in one statement; writing them one by one`,
        { error: String(error) },
      );
      const acc = done ?? new Map<T, R | undefined>();
      let firstError: unknown;
      let failed = 0;
      for (const item of todo) {
        try {
          const one = await write([item]);
          acc.set(item, one?.get(item));
        } catch (e) {
          failed++;
          firstError ??= e;
        }
      }
      if (failed === 0) {
        carried.delete(items);
        return merged(acc, [], undefined);
      }
      carried.set(items, acc);
      options.logger.error(
        `Could not ${options.describe} ${failed} of ${todo.length} jobs one by one either`,
        { error: String(firstError) },
      );
      throw firstError;
    }
  };
}

function merged<T, R>(
  done: Map<T, R | undefined>,
  todo: T[],
  results: Map<T, R> | undefined,
): Map<T, R> {
  const out = new Map<T, R>();
  for (const [item, r] of done) if (r !== undefined) out.set(item, r);
  if (results) {
    for (const item of todo) {
      if (results.has(item)) out.set(item, results.get(item)!);
    }
  }
  return out;
}
