/**
 * Job filters from a query string (`GET api/jobs`) or from a JSON `filter`
 * object (`POST api/jobs/actions`), checked field by field, and the opaque
 * keyset cursor.
 *
 * @module
 */
import { JOB_STATES, type JobFilter, type JobState } from "../sql/admin_jobs.ts";
import { type AdminErrorCode, AdminHttpError } from "./_http.ts";

const INT8_MAX = 9223372036854775807n;
const LIST_FIELDS = ["task", "queue", "key", "worker"] as const;
const DATE_FIELDS = ["runAtFrom", "runAtTo", "createdFrom", "createdTo"] as const;

/** Filter field names, shared by the query string and the JSON filter. */
export const FILTER_FIELDS: readonly string[] = [
  "state",
  ...LIST_FIELDS,
  "id",
  ...DATE_FIELDS,
  "payload",
  "error",
];

type Fail = (field: string, message: string) => never;

function failWith(code: AdminErrorCode): Fail {
  return (field, message) => {
    throw new AdminHttpError(code, `${field}: ${message}`, field);
  };
}

/** A bigint job id given as text, else null. */
export function parseJobId(value: unknown): string | null {
  if (typeof value !== "string" || !/^[0-9]{1,19}$/.test(value)) return null;
  return BigInt(value) > INT8_MAX ? null : String(BigInt(value));
}

function nonEmpty(values: unknown[], field: string, fail: Fail): string[] {
  return values.map((v) => {
    if (typeof v !== "string" || v.length === 0) fail(field, "must be non-empty strings");
    return v as string;
  });
}

function toList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Build a filter from raw values: `raw[field]` is a list of strings (query
 * string, lists as repeated parameters; `state` and `id` also comma-separated)
 * or a JSON value (JSON filter; `payload` then is the JSON to contain).
 */
function buildFilter(
  raw: Record<string, unknown>,
  fromQuery: boolean,
  fail: Fail,
): JobFilter {
  const f: JobFilter = {};
  const split = (v: unknown[]) => v.flatMap((x) => typeof x === "string" ? x.split(",") : [x]);
  if (raw.state !== undefined) {
    const states = split(toList(raw.state));
    for (const s of states) {
      if (!JOB_STATES.includes(s as JobState)) {
        fail("state", `must be one of ${JOB_STATES.join(", ")} (got ${JSON.stringify(s)})`);
      }
    }
    f.states = [...new Set(states as JobState[])];
  }
  for (const name of LIST_FIELDS) {
    if (raw[name] === undefined) continue;
    const values = nonEmpty(toList(raw[name]), name, fail);
    const key = name === "task" ? "tasks" : name === "queue" ? "queues" : `${name}s` as const;
    (f as Record<string, unknown>)[key] = values;
  }
  if (raw.id !== undefined) {
    f.ids = split(toList(raw.id)).map((v) => {
      const id = parseJobId(v);
      if (id === null) {
        fail("id", `must be job ids: digits within bigint range (got ${JSON.stringify(v)})`);
      }
      return id as string;
    });
  }
  for (const name of DATE_FIELDS) {
    if (raw[name] === undefined) continue;
    const values = toList(raw[name]);
    const v = values[0];
    const date = typeof v === "string" ? new Date(v) : new Date(NaN);
    if (
      values.length !== 1 || Number.isNaN(date.getTime()) || !/^\d{4}-\d\d-\d\d/.test(v as string)
    ) {
      fail(name, "must be one ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z");
    }
    f[name] = date;
  }
  if (raw.payload !== undefined) {
    if (fromQuery) {
      const values = toList(raw.payload);
      try {
        if (values.length !== 1) throw new Error("given more than once");
        JSON.parse(values[0] as string);
      } catch (e) {
        fail("payload", `must be one JSON value to match by containment (${(e as Error).message})`);
      }
      f.payload = values[0] as string;
    } else {
      f.payload = JSON.stringify(raw.payload);
    }
  }
  if (raw.error !== undefined) {
    const values = nonEmpty(toList(raw.error), "error", fail);
    if (values.length !== 1) fail("error", "give one text to search for");
    f.error = values[0];
  }
  return f;
}

/** Paging of `GET api/jobs`. */
export interface PageQuery {
  order: "asc" | "desc";
  direction: "next" | "prev";
  cursorId: string | null;
  limit: number;
  count: boolean;
}

const PAGE_FIELDS = ["cursor", "direction", "limit", "order", "count"];

/** Parse the query string of `GET api/jobs`: filters plus paging; 400 `bad_query` on errors. */
export function parseJobsQuery(
  params: URLSearchParams,
  maxPageSize: number,
): { filter: JobFilter; page: PageQuery } {
  const fail = failWith("bad_query");
  const raw: Record<string, string[]> = {};
  for (const [k, v] of params) {
    if (!FILTER_FIELDS.includes(k) && !PAGE_FIELDS.includes(k)) {
      fail(k, `unknown parameter; known: ${[...FILTER_FIELDS, ...PAGE_FIELDS].join(", ")}`);
    }
    (raw[k] ??= []).push(v);
  }
  const one = (k: string): string | undefined => {
    if (raw[k] && raw[k].length > 1) fail(k, "given more than once");
    return raw[k]?.[0];
  };
  const order = one("order") ?? "desc";
  if (order !== "asc" && order !== "desc") fail("order", 'must be "asc" or "desc"');
  const direction = one("direction") ?? "next";
  if (direction !== "next" && direction !== "prev") fail("direction", 'must be "next" or "prev"');
  const limitText = one("limit");
  const limit = limitText === undefined ? Math.min(50, maxPageSize) : Number(limitText);
  if (
    !/^\d+$/.test(limitText ?? "1") || !Number.isInteger(limit) || limit < 1 || limit > maxPageSize
  ) {
    fail("limit", `must be an integer from 1 to ${maxPageSize} (got ${JSON.stringify(limitText)})`);
  }
  const count = one("count");
  if (count !== undefined && count !== "true" && count !== "false") {
    fail("count", 'must be "true" or "false"');
  }
  const cursorText = one("cursor");
  const cursorId = cursorText === undefined ? null : decodeCursor(cursorText, order, fail);
  const filterRaw: Record<string, unknown> = {};
  for (const k of FILTER_FIELDS) if (raw[k]) filterRaw[k] = raw[k];
  return {
    filter: buildFilter(filterRaw, true, fail),
    page: {
      order: order as "asc" | "desc",
      direction: direction as "next" | "prev",
      cursorId,
      limit,
      count: count === "true",
    },
  };
}

/** Parse the JSON `filter` of a filter action; 422 `validation` naming `filter.<field>`. */
export function parseJsonFilter(value: unknown): JobFilter {
  const fail: Fail = (field, message) => {
    throw new AdminHttpError("validation", `filter.${field}: ${message}`, `filter.${field}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AdminHttpError("validation", "filter: must be an object", "filter");
  }
  const raw = value as Record<string, unknown>;
  for (const k of Object.keys(raw)) {
    if (!FILTER_FIELDS.includes(k)) fail(k, `unknown field; known: ${FILTER_FIELDS.join(", ")}`);
  }
  return buildFilter(raw, false, fail);
}

/** Cursor for the row `id` in `order` (opaque to clients). */
export function encodeCursor(id: string, order: "asc" | "desc"): string {
  return btoa(`${order}:${id}`).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
}

function decodeCursor(text: string, order: string, fail: Fail): string {
  let decoded = "";
  try {
    decoded = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    fail("cursor", "is not a cursor this API handed out");
  }
  const [o, id] = decoded.split(":");
  const parsed = parseJobId(id);
  if (parsed === null || (o !== "asc" && o !== "desc")) {
    fail("cursor", "is not a cursor this API handed out");
  }
  if (o !== order) fail("cursor", `was made for order=${o}; keep the order while paging`);
  return parsed as string;
}
