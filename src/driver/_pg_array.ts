/**
 * Built-in array types for the postgres.js driver, written and read by Spool.
 *
 * Spool opens its pools with `fetch_types: false`: postgres.js's
 * per-connection array-type lookup drops its promise, so a backend terminated
 * during that lookup became an unhandled rejection that ends the process
 * (upstream porsager/postgres #1223). Without the lookup postgres.js knows no
 * array type, so these entries (its `types` option) encode JS arrays as array
 * literals and parse array columns into JS arrays, following the row
 * convention in `types.ts`. Arrays of types not listed here (enums, domains,
 * composites, bytea) come back as their text (`{a,b}`) from a Spool-opened
 * pool; pass your own `postgres()` client to keep postgres.js's lookup.
 */

function element(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (Array.isArray(value)) return pgArrayLiteral(value);
  const text = typeof value === "string"
    ? value
    : value instanceof Date
    ? value.toISOString()
    : typeof value === "object"
    ? JSON.stringify(value)
    : String(value);
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** The array literal for an array (nested arrays are dimensions): elements quoted, `NULL` for null. */
export function pgArrayLiteral(values: readonly unknown[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) out += (i ? "," : "") + element(values[i]);
  return out + "}";
}

/**
 * Whether postgres.js would give the array parameter `value` a type of its own: it types
 * an array by its first element (`bool` for `[true]`, `timestamptz` for a `Date`, `int8`
 * for a bigint, `bytea`), which the server then refuses to cast to the array type when
 * postgres.js knows no array types. Arrays of strings and numbers go untyped, and the
 * server's type for the parameter picks the serializer (an array type, or JSON for a
 * json parameter).
 */
function typedByElement(value: unknown[]): boolean {
  let first: unknown = value[0];
  while (Array.isArray(first)) first = first[0];
  return typeof first === "boolean" || typeof first === "bigint" || first instanceof Date ||
    first instanceof Uint8Array;
}

/** `params` with each array that postgres.js would mistype replaced by its literal. */
export function arrayParamsAsLiterals(params: readonly unknown[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    if (Array.isArray(value) && typedByElement(value)) {
      (out ??= [...params])[i] = pgArrayLiteral(value);
    }
  }
  return out ?? (params as unknown[]);
}

type Convert = (text: string) => unknown;

/** Parse an array literal (any number of dimensions, quoted or bare elements, `NULL`). */
export function parsePgArray(text: string, convert: Convert): unknown[] {
  let pos = text.startsWith("[") ? text.indexOf("=") + 1 : 0; // "[0:1]={…}": bounds ignored
  const parseLevel = (): unknown[] => {
    const out: unknown[] = [];
    pos++; // "{"
    while (pos < text.length && text[pos] !== "}") {
      if (text[pos] === "{") out.push(parseLevel());
      else if (text[pos] === '"') {
        let s = "";
        for (pos++; pos < text.length && text[pos] !== '"'; pos++) {
          s += text[pos] === "\\" ? text[++pos] : text[pos];
        }
        pos++;
        out.push(convert(s));
      } else {
        const start = pos;
        while (pos < text.length && text[pos] !== "," && text[pos] !== "}") pos++;
        const raw = text.slice(start, pos);
        out.push(raw === "NULL" ? null : convert(raw));
      }
      if (text[pos] === ",") pos++;
    }
    pos++; // "}"
    return out;
  };
  return parseLevel();
}

const asIs: Convert = (s) => s;
const asNumber: Convert = (s) => Number(s);
const asJson: Convert = (s) => JSON.parse(s);
// As postgres.js parses a single timestamp.
const asDate: Convert = (s) => new Date(s);
/** Spool's row convention for element types: array oid → element conversion. */
const ELEMENTS: Record<number, Convert> = {
  1000: (s) => s === "t", // bool[]
  1005: asNumber, // int2[]
  1007: asNumber, // int4[]
  1016: asIs, // int8[] (as strings, like int8)
  1028: asNumber, // oid[]
  1021: asNumber, // float4[]
  1022: asNumber, // float8[]
  1231: asIs, // numeric[]
  1009: asIs, // text[]
  1015: asIs, // varchar[]
  1014: asIs, // bpchar[]
  1003: asIs, // name[]
  2951: asIs, // uuid[]
  199: asJson, // json[]
  3807: asJson, // jsonb[]
  1115: asDate, // timestamp[]
  1185: asDate, // timestamptz[]
  1182: asDate, // date[]
  1183: asIs, // time[]
  1270: asIs, // timetz[]
  1187: asIs, // interval[]
  1041: asIs, // inet[]
  651: asIs, // cidr[]
  1040: asIs, // macaddr[]
  1002: asIs, // "char"[]
};

/** A postgres.js `types` entry. */
export interface ArrayType {
  to: number;
  from: number[];
  serialize: (value: unknown) => unknown;
  parse: Convert;
}

const serialize = (value: unknown): unknown => Array.isArray(value) ? pgArrayLiteral(value) : value;

/** postgres.js `types` entries for the built-in array types, so no lookup is needed. */
export function arrayTypes(): Record<string, ArrayType> {
  const out: Record<string, ArrayType> = {};
  for (const [oid, convert] of Object.entries(ELEMENTS)) {
    out[`_spool_array_${oid}`] = {
      to: Number(oid),
      from: [Number(oid)],
      serialize,
      parse: (text) => parsePgArray(text, convert),
    };
  }
  return out;
}
