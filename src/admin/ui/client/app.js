// The dashboard's entry: session and sign-in, the header, URL-driven navigation, live polling
// and the error display. Each page is a view module with `el` and `load()`.
import { api, ApiError, basicAuth, storeAuth, storedAuth } from "./api.js";
import { h, replace } from "./render.js";
import { emptyState, formatState, parseState, updateState, VIEWS } from "./url_state.js";
import { pushSample } from "./chart_math.js";
import { toast } from "./dialogs.js";
import { overviewView } from "./views/overview.js";
import { jobsView } from "./views/jobs.js";
import { queuesView } from "./views/queues.js";
import { workersView } from "./views/workers.js";
import { cronView } from "./views/cron.js";
import { maintenanceView } from "./views/maintenance.js";

const TITLES = {
  overview: "Overview",
  jobs: "Jobs",
  queues: "Queues",
  workers: "Workers",
  cron: "Cron",
  maintenance: "Maintenance",
};
const FACTORIES = {
  overview: overviewView,
  jobs: jobsView,
  queues: queuesView,
  workers: workersView,
  cron: cronView,
  maintenance: maintenanceView,
};
const INTERVALS = [0, 2, 5, 10, 30];
const REFRESH_KEY = "spool.refresh";
const SAMPLES_KEPT = 120;

const root = /** @type {HTMLElement} */ (document.getElementById("app"));
let state = parseState(location.search);
/** @type {any} */
let session = null;
/** @type {{ name: string, el: HTMLElement, load: () => Promise<void>, update?: (s: any) => void } | null} */
let view = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let loading = false;
let loadAgain = false;
const main = h("main", { id: "main", tabindex: "-1" });
const errorBox = h("div", { class: "alert", role: "alert", hidden: true });
const nav = h("nav", { class: "nav", "aria-label": "Pages" });
const liveDot = h("span", { class: "live-dot", "aria-hidden": "true" });

/** Shared by the views: the session, navigation, the overview samples and error handling. */
const ctx = {
  /** @returns {any} */
  get session() {
    return session;
  },
  get canWrite() {
    return Boolean(session?.canWrite);
  },
  get state() {
    return state;
  },
  /** @type {{ t: number, counts: Record<string, number> }[]} */
  samples: [],
  /**
   * @param {Record<string, string>} patch
   * @param {{ replace?: boolean }} [options]
   */
  navigate(patch, options = {}) {
    const next = updateState(state, patch);
    const url = formatState(next) || location.pathname;
    if (options.replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    show(next);
  },
  /**
   * A link (relative query string) to a view: from the default state, or from the current one
   * with `keep` (tabs and pages of the same listing).
   * @param {Record<string, string>} patch
   * @param {boolean} [keep]
   */
  href(patch, keep = false) {
    return formatState(updateState(keep ? state : emptyState(), patch)) || "./";
  },
  /** Loads the overview and records a sample of its counts for the chart. */
  async overview() {
    const data = await api("overview");
    if (data?.counts) {
      const sample = { t: Date.now(), counts: data.counts };
      ctx.samples = pushSample(ctx.samples, sample, SAMPLES_KEPT, 1000);
    }
    return data;
  },
  /** Loads the current view again now (after an action). */
  reload() {
    return reload();
  },
  /** Reports an action's failure; a 401 leads to the sign-in form. @param {unknown} e */
  fail(e) {
    if (e instanceof ApiError && e.status === 401) return signIn(e.message);
    toast(e instanceof Error ? e.message : String(e), "error");
  },
};

/** Follows links inside the app without reloading the page (modifier clicks open tabs). */
function onLinkClick(/** @type {MouseEvent} */ event) {
  const a = event.target instanceof Element ? event.target.closest("a[data-nav]") : null;
  if (!a || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  const url = new URL(/** @type {HTMLAnchorElement} */ (a).href);
  history.pushState(null, "", url.search || location.pathname);
  show(parseState(url.search));
}

/** @param {ReturnType<typeof parseState>} next */
function show(next) {
  const previous = state;
  state = next;
  document.title = `${TITLES[/** @type {keyof TITLES} */ (state.view)]} · Spool`;
  for (const a of nav.querySelectorAll("a")) {
    if (a.dataset.view === state.view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!view || view.name !== state.view) {
    const make = FACTORIES[/** @type {keyof FACTORIES} */ (state.view)];
    view = { name: state.view, ...make(ctx) };
    errorBox.hidden = true;
    replace(main, errorBox, view.el);
    if (previous.view !== state.view) main.focus({ preventScroll: true });
  } else {
    view.update?.(state);
  }
  void reload();
}

async function reload() {
  if (!view) return;
  if (loading) {
    loadAgain = true;
    return;
  }
  loading = true;
  clearTimeout(timer);
  const current = view;
  try {
    await current.load();
    if (current === view) errorBox.hidden = true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      loading = false;
      return signIn(e.message);
    }
    if (current === view) {
      replace(errorBox, `Could not load this page: ${e instanceof Error ? e.message : e}`);
      errorBox.hidden = false;
    }
  }
  loading = false;
  if (loadAgain) {
    loadAgain = false;
    return reload();
  }
  schedule();
}

function interval() {
  const n = Number(localStorage.getItem(REFRESH_KEY) ?? "5");
  return INTERVALS.includes(n) ? n : 5;
}

function schedule() {
  clearTimeout(timer);
  const seconds = interval();
  liveDot.classList.toggle("on", seconds > 0 && !document.hidden);
  if (seconds > 0 && !document.hidden) timer = setTimeout(reload, seconds * 1000);
}

function header() {
  nav.replaceChildren();
  for (const name of VIEWS) {
    if (name === "maintenance" && !session.canWrite) continue;
    nav.appendChild(h("a", {
      href: ctx.href({ view: name }),
      "data-nav": "",
      "data-view": name,
    }, TITLES[/** @type {keyof TITLES} */ (name)]));
  }
  const select = /** @type {HTMLSelectElement} */ (h(
    "select",
    {
      id: "refresh",
      onchange: () => {
        localStorage.setItem(REFRESH_KEY, select.value);
        void reload();
      },
    },
    INTERVALS.map((n) =>
      h("option", { value: String(n), selected: n === interval() }, n ? `every ${n} s` : "off")
    ),
  ));
  const role = session.readOnly ? "read-only" : session.role;
  const icon = document.querySelector('link[rel="icon"]')?.getAttribute("href");
  return h(
    "header",
    { class: "top" },
    h("div", { class: "brand" }, icon ? h("img", { src: icon, alt: "" }) : null, "Spool"),
    nav,
    h(
      "div",
      { class: "who" },
      h("label", { class: "inline live", for: "refresh" }, liveDot, "Live"),
      select,
      h("span", { class: "actor", title: `schema ${session.schema}` }, session.actor),
      h("span", { class: ["badge", session.canWrite ? "ok" : "scheduled"] }, role),
      storedAuth()
        ? h("button", {
          type: "button",
          class: "small",
          onclick: () => {
            storeAuth(null);
            location.reload();
          },
        }, "Sign out")
        : null,
    ),
  );
}

/** The sign-in form shown when the API answers 401. @param {string} [reason] */
function signIn(reason) {
  clearTimeout(timer);
  view = null;
  const user = h("input", { name: "username", autocomplete: "username" });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
  });
  const token = h("input", { name: "token", type: "password", autocomplete: "off" });
  const message = h("p", { class: "field-error", role: "alert" }, reason ?? "");
  const form = h(
    "form",
    {
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const u = /** @type {HTMLInputElement} */ (user).value;
        const t = /** @type {HTMLInputElement} */ (token).value;
        const value = t
          ? `Bearer ${t}`
          : basicAuth(u, /** @type {HTMLInputElement} */ (password).value);
        storeAuth(value);
        try {
          await start();
        } catch (err) {
          storeAuth(null);
          replace(message, err instanceof Error ? err.message : String(err));
        }
      },
    },
    h("h1", null, "Sign in to Spool"),
    message,
    h("label", null, "Username", user),
    h("label", null, "Password", password),
    h("p", { class: "meta" }, "or"),
    h("label", null, "API token", token),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Sign in")),
  );
  replace(root, h("main", { class: "signin panel" }, form));
  root.classList.remove("boot");
  /** @type {HTMLInputElement} */ (user).focus();
}

async function start() {
  try {
    session = await api("session");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      if (storedAuth()) throw new Error("Those credentials were not accepted.");
      return signIn();
    }
    throw e;
  }
  root.classList.remove("boot");
  replace(root, header(), main);
  if (!session.canWrite && state.view === "maintenance") state = { ...state, view: "overview" };
  show(state);
}

document.addEventListener("click", onLinkClick);
addEventListener("popstate", () => show(parseState(location.search)));
document.addEventListener("visibilitychange", () => {
  if (document.hidden) schedule();
  else if (view) void reload();
});

start().catch((e) => {
  replace(
    root,
    h("main", null, h("div", { class: "alert", role: "alert" }, `Spool: ${e?.message ?? e}`)),
  );
});
