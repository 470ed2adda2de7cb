// The view's state lives in the page URL's query string, so a link reproduces the view and
// back/forward work. Pure: strings in, plain objects out (no DOM).

/** The pages of the dashboard, in menu order. */
export const VIEWS = ["overview", "jobs", "queues", "workers", "cron", "maintenance"];

/** Job states the API derives; "" means every state. */
export const STATES = ["", "ready", "blocked", "scheduled", "retrying", "running", "failed"];

/** Filters of the jobs view, by their URL (and API) parameter name. */
export const FILTERS = [
  "task",
  "queue",
  "key",
  "worker",
  "payload",
  "error",
  "runAtFrom",
  "runAtTo",
];

/**
 * @typedef {{
 *   view: string, state: string, task: string, queue: string, key: string, worker: string,
 *   payload: string, error: string, runAtFrom: string, runAtTo: string,
 *   cursor: string, direction: "next" | "prev", job: string
 * }} ViewState
 */

/** @returns {ViewState} */
export function emptyState() {
  return {
    view: "overview",
    state: "",
    task: "",
    queue: "",
    key: "",
    worker: "",
    payload: "",
    error: "",
    runAtFrom: "",
    runAtTo: "",
    cursor: "",
    direction: "next",
    job: "",
  };
}

/**
 * Reads a view state from a query string ("?view=jobs&state=failed"); unknown values fall back
 * to the defaults instead of failing, since the URL is user input.
 * @param {string} search
 * @returns {ViewState}
 */
export function parseState(search) {
  const p = new URLSearchParams(search);
  const s = emptyState();
  const view = p.get("view") ?? "";
  s.view = VIEWS.includes(view) ? view : "overview";
  const state = p.get("state") ?? "";
  s.state = STATES.includes(state) ? state : "";
  for (const name of FILTERS) s[name] = (p.get(name) ?? "").trim();
  s.cursor = p.get("cursor") ?? "";
  s.direction = p.get("direction") === "prev" ? "prev" : "next";
  s.job = /^\d+$/.test(p.get("job") ?? "") ? /** @type {string} */ (p.get("job")) : "";
  return s;
}

/**
 * Writes a view state as a query string with a fixed parameter order and no defaults, so equal
 * states give equal URLs. Returns "" for the default view or "?…".
 * @param {ViewState} s
 * @returns {string}
 */
export function formatState(s) {
  const p = new URLSearchParams();
  if (s.view !== "overview") p.set("view", s.view);
  if (s.view === "jobs") {
    if (s.state) p.set("state", s.state);
    for (const name of FILTERS) if (s[name]) p.set(name, s[name]);
    if (s.cursor) {
      p.set("cursor", s.cursor);
      if (s.direction === "prev") p.set("direction", "prev");
    }
  }
  if (s.job) p.set("job", s.job);
  const text = p.toString();
  return text ? `?${text}` : "";
}

/**
 * The state after a change. Any change to the tab or a filter returns to the first page, since a
 * cursor belongs to the listing it came from.
 * @param {ViewState} s
 * @param {Partial<ViewState>} patch
 * @returns {ViewState}
 */
export function updateState(s, patch) {
  const next = { ...s, ...patch };
  const listingChanged = next.view !== s.view || next.state !== s.state ||
    FILTERS.some((f) => next[f] !== s[f]);
  if (listingChanged && !("cursor" in patch)) {
    next.cursor = "";
    next.direction = "next";
  }
  return next;
}

/**
 * The filter object of the jobs API for this view (shared by the listing and the filter-wide
 * bulk actions, so both act on the same rows).
 * @param {ViewState} s
 * @returns {Record<string, string>}
 */
export function jobFilter(s) {
  /** @type {Record<string, string>} */
  const f = {};
  if (s.state) f.state = s.state;
  for (const name of FILTERS) if (s[name]) f[name] = s[name];
  return f;
}

/**
 * The `filter` of a filter-wide `POST api/jobs/actions`: the listing's filter, with the payload
 * as the JSON value it stands for (text that is not JSON is sent as is, for the server to refuse).
 * @param {ViewState} s
 * @returns {Record<string, unknown>}
 */
export function actionFilter(s) {
  /** @type {Record<string, unknown>} */
  const f = jobFilter(s);
  if (typeof f.payload === "string") {
    try {
      f.payload = JSON.parse(f.payload);
    } catch {
      // Left as text: the server names the field in its answer.
    }
  }
  return f;
}

/**
 * The query string of `GET api/jobs` for this view (with the total count).
 * @param {ViewState} s
 * @param {number} limit
 * @returns {string}
 */
export function jobsQuery(s, limit) {
  const p = new URLSearchParams(jobFilter(s));
  if (s.cursor) {
    p.set("cursor", s.cursor);
    p.set("direction", s.direction);
  }
  p.set("limit", String(limit));
  p.set("count", "true");
  return p.toString();
}

/**
 * True when any filter besides the state tab is set (the empty state then says so).
 * @param {ViewState} s
 * @returns {boolean}
 */
export function hasFilters(s) {
  return FILTERS.some((f) => s[f] !== "");
}
