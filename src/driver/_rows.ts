/**
 * Row normalisation for clients whose defaults differ from the row convention
 * in `types.ts`: `bigint` values become decimal strings and typed numeric
 * arrays (Bun.SQL returns `int4[]` as `Int32Array`) become plain arrays.
 * `Uint8Array`/`Buffer` (bytea) are left alone.
 */

function normaliseValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    return value.some((v) => typeof v === "bigint" || (v !== null && typeof v === "object"))
      ? value.map(normaliseValue)
      : value;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof Uint8Array) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, normaliseValue);
  }
  return value;
}

function needsWork(value: unknown): boolean {
  return typeof value === "bigint" ||
    (value !== null && typeof value === "object" &&
      (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof Uint8Array))));
}

/** Copy `rows` into plain objects that follow the row convention (in place when nothing changes). */
export function normaliseRows<R>(rows: ArrayLike<Record<string, unknown>>): R[] {
  const out = new Array<R>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    let copy: Record<string, unknown> | undefined;
    for (const key in row) {
      const value = row[key];
      if (!needsWork(value)) continue;
      const next = normaliseValue(value);
      if (next !== value) (copy ??= { ...row })[key] = next;
    }
    out[i] = (copy ?? row) as R;
  }
  return out;
}

/**
 * Several statements in one parameterless query come back as an array of row
 * lists (postgres.js, Bun.SQL); keep the last so `rows` stays a list of rows.
 * Multi-statement results are otherwise undefined (postgres.js drops the
 * counts of statements that return no rows).
 */
export function lastResult<T extends ArrayLike<unknown>>(result: T): T {
  const n = result.length;
  return n > 0 && Array.isArray(result[0]) ? result[n - 1] as unknown as T : result;
}
