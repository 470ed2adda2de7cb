// The client of the admin JSON API. Every URL is relative to the page, so the dashboard works
// under any base path; every write carries the CSRF header; credentials typed into the sign-in
// form live in sessionStorage only (gone when the tab closes).

const AUTH_KEY = "spool.auth";

/** An answer of the API that was not a success, with the envelope's code and message. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string} [field]
   */
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** @returns {string | null} the stored Authorization header value */
export function storedAuth() {
  try {
    return sessionStorage.getItem(AUTH_KEY);
  } catch {
    return null;
  }
}

/** @param {string | null} value an Authorization header value, or null to sign out */
export function storeAuth(value) {
  try {
    if (value) sessionStorage.setItem(AUTH_KEY, value);
    else sessionStorage.removeItem(AUTH_KEY);
  } catch {
    // Storage can be disabled; the session then lasts until the page reloads.
  }
  memoryAuth = value;
}

/** @type {string | null} */
let memoryAuth = null;

/**
 * The Authorization header for a username and password.
 * @param {string} user
 * @param {string} password
 * @returns {string}
 */
export function basicAuth(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * Calls `api/<path>`. Resolves with the parsed JSON (or text for non-JSON answers); rejects with
 * an {@link ApiError} for every failure, including the network being down.
 * @param {string} path e.g. "jobs?state=failed"
 * @param {{ method?: string, body?: unknown }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const method = options.method ?? "GET";
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  const auth = storedAuth() ?? memoryAuth;
  if (auth) headers.authorization = auth;
  if (method !== "GET" && method !== "HEAD") headers["x-spool-request"] = "1";
  let body;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let res;
  try {
    res = await fetch(`api/${path}`, {
      method,
      headers,
      body,
      // "omit": no ambient HTTP auth, so a 401 never opens the browser's own Basic prompt (the
      // Authorization header above is sent all the same).
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, "network", `The server could not be reached (${errorText(e)}).`);
  }
  const type = res.headers.get("content-type") ?? "";
  const data = type.includes("json") ? await res.json().catch(() => null) : await res.text();
  if (res.ok) return data;
  const envelope = data && typeof data === "object" && data.error ? data.error : null;
  throw new ApiError(
    res.status,
    envelope?.code ?? `http_${res.status}`,
    envelope?.message ?? `The server answered ${res.status} ${res.statusText}.`,
    envelope?.field,
  );
}

/** @param {unknown} e */
function errorText(e) {
  return e instanceof Error ? e.message : String(e);
}
