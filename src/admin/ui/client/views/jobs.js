// Jobs: state tabs with counts, server-side filters, cursor pages, row selection, a bulk bar
// acting on the selection or on every job matching the filter, and the job drawer.
import { api } from "../api.js";
import { h, replace } from "../render.js";
import { formatCount, isoToLocalInput, localInputToIso, plural } from "../format.js";
import { actionFilter, FILTERS, hasFilters, jobsQuery, STATES } from "../url_state.js";
import { pageHead, STATE_LABELS } from "./common.js";
import { ACTIONS, runAction } from "./job_actions.js";
import { jobTable } from "./job_table.js";
import { jobDrawer } from "./job_drawer.js";
import { addJobDialog } from "./add_job.js";

const PAGE_SIZE = 50;
const LABELS = {
  task: "Task",
  queue: "Queue",
  key: "Job key",
  worker: "Locked by (worker)",
  payload: "Payload contains (JSON)",
  error: "Error contains",
  runAtFrom: "Run at from",
  runAtTo: "Run at before",
};

/** @param {any} ctx */
export function jobsView(ctx) {
  /** @type {Set<string>} */
  const selected = new Set();
  let allMatching = false;
  /** @type {any[]} */
  let rows = [];
  /** @type {{ value: number, estimated: boolean } | null} */
  let count = null;
  let listing = "";
  const tabs = h("nav", { class: "tabs", "aria-label": "Job states" });
  const bulk = h("div", {
    class: "bulk",
    role: "region",
    "aria-label": "Bulk actions",
    hidden: true,
  });
  const list = h("div");
  const pager = h("div", { class: "pager" });
  const tasks = h("datalist", { id: "task-list" });
  const queues = h("datalist", { id: "queue-list" });
  /** @type {Record<string, HTMLInputElement>} */
  const inputs = {};
  for (const name of FILTERS) {
    const isDate = name.startsWith("runAt");
    inputs[name] = /** @type {HTMLInputElement} */ (h("input", {
      name,
      type: isDate ? "datetime-local" : "text",
      list: name === "task" ? "task-list" : name === "queue" ? "queue-list" : null,
      placeholder: name === "payload" ? '{"userId": 42}' : null,
      class: name === "payload" ? "mono" : null,
    }));
  }
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter jobs", onsubmit: applyFilters },
    FILTERS.map((name) =>
      h("label", null, LABELS[/** @type {keyof LABELS} */ (name)], inputs[name])
    ),
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "submit", class: "primary" }, "Apply"),
      h("button", { type: "button", onclick: clearFilters }, "Clear"),
    ),
  );
  const summary = h("summary", null, "Filters");
  // Open on wide screens and whenever a filter is set; a phone starts with it folded.
  const filterBox = /** @type {HTMLDetailsElement} */ (h(
    "details",
    {
      class: "panel filter-box",
      open: matchMedia("(min-width: 641px)").matches || hasFilters(ctx.state),
    },
    summary,
    form,
    tasks,
    queues,
  ));
  const drawer = jobDrawer(ctx);
  const el = h(
    "section",
    null,
    pageHead(
      "Jobs",
      ctx.canWrite
        ? h("button", {
          type: "button",
          class: "primary",
          "data-testid": "add-job",
          onclick: () => addJobDialog(ctx),
        }, "Add job")
        : null,
    ),
    tabs,
    filterBox,
    bulk,
    h("div", { class: "panel" }, list, pager),
  );
  syncForm(ctx.state);

  /** @param {SubmitEvent} e */
  function applyFilters(e) {
    e.preventDefault();
    /** @type {Record<string, string>} */
    const patch = {};
    for (const name of FILTERS) {
      const v = inputs[name].value.trim();
      patch[name] = name.startsWith("runAt") ? (localInputToIso(v) ?? "") : v;
    }
    ctx.navigate(patch);
  }

  function clearFilters() {
    ctx.navigate(Object.fromEntries(FILTERS.map((f) => [f, ""])));
  }

  /** @param {any} s */
  function syncForm(s) {
    const active = FILTERS.filter((f) => s[f]).length;
    replace(summary, active ? `Filters (${active} active)` : "Filters");
    if (active) filterBox.open = true;
    for (const name of FILTERS) {
      inputs[name].value = name.startsWith("runAt") ? isoToLocalInput(s[name]) : s[name];
    }
  }

  async function load() {
    const s = ctx.state;
    const key = jobsQuery(s, PAGE_SIZE);
    if (key !== listing) {
      listing = key;
      selected.clear();
      allMatching = false;
    }
    const [page, overview, taskList, queueList] = await Promise.all([
      api(`jobs?${key}`),
      ctx.overview(),
      tasks.childElementCount ? null : api("tasks").catch(() => null),
      queues.childElementCount ? null : api("queues").catch(() => null),
    ]);
    if (taskList) {
      replace(
        tasks,
        (taskList.tasks ?? []).map((/** @type {any} */ t) => h("option", { value: t.identifier })),
      );
    }
    if (queueList) {
      replace(
        queues,
        (queueList.queues ?? []).map((/** @type {any} */ q) => h("option", { value: q.name })),
      );
    }
    rows = page.jobs;
    count = page.count ?? null;
    for (const id of [...selected]) if (!rows.some((r) => r.id === id)) selected.delete(id);
    renderTabs(overview.counts);
    renderTable();
    renderBulk();
    renderPager(page);
    await drawer.show(s.job);
  }

  /** @param {Record<string, number>} counts */
  function renderTabs(counts) {
    const s = ctx.state;
    replace(
      tabs,
      STATES.map((st) =>
        h(
          "a",
          {
            href: ctx.href({ state: st }, true),
            "data-nav": "",
            "data-state": st || "all",
            "aria-current": s.state === st ? "page" : null,
          },
          st ? STATE_LABELS[/** @type {keyof STATE_LABELS} */ (st)] : "All",
          h("span", { class: "count" }, formatCount(st ? counts[st] ?? 0 : counts.total ?? 0)),
        )
      ),
    );
  }

  function renderTable() {
    replace(
      list,
      jobTable(ctx, rows, selected, (narrowed) => {
        if (narrowed) allMatching = false;
        renderTable();
        renderBulk();
      }),
    );
  }

  function renderBulk() {
    if (!ctx.canWrite || selected.size === 0) {
      bulk.hidden = true;
      replace(bulk);
      return;
    }
    const total = count?.value ?? null;
    const more = total !== null && !count?.estimated && total > selected.size &&
      rows.every((r) => selected.has(r.id));
    const max = ctx.session.maxActionJobs ?? Infinity;
    const n = allMatching && total !== null ? total : selected.size;
    replace(
      bulk,
      h(
        "strong",
        { "data-testid": "bulk-count" },
        allMatching ? `All ${plural(n, "job")} matching` : `${plural(n, "job")} selected`,
      ),
      more && !allMatching && total <= max
        ? h("button", {
          type: "button",
          class: "link",
          "data-key": "select-all-matching",
          onclick: () => {
            allMatching = true;
            renderBulk();
          },
        }, `Select all ${formatCount(total)} matching this filter`)
        : null,
      more && total > max
        ? h(
          "span",
          { class: "meta" },
          `${formatCount(total)} match; actions take at most ${formatCount(max)} at once.`,
        )
        : null,
      h("span", { class: "spacer" }),
      ACTIONS.map((a) =>
        h("button", {
          type: "button",
          class: ["small", a.danger && "danger"],
          "data-key": `bulk-${a.action}`,
          onclick: () => bulkAction(a),
        }, a.label)
      ),
      h("button", {
        type: "button",
        class: "small",
        onclick: () => {
          selected.clear();
          allMatching = false;
          renderTable();
          renderBulk();
        },
      }, "Clear selection"),
    );
    bulk.hidden = false;
  }

  /** @param {import("./job_actions.js").ActionDef} a */
  async function bulkAction(a) {
    const target = allMatching && count
      ? { filter: actionFilter(ctx.state), expectedCount: count.value }
      : { ids: [...selected] };
    if (await runAction(ctx, a, target)) {
      selected.clear();
      allMatching = false;
      renderTable();
      renderBulk();
    }
  }

  /** @param {{ nextCursor: string | null, prevCursor: string | null }} page */
  function renderPager(page) {
    const s = ctx.state;
    replace(
      pager,
      count
        ? h(
          "span",
          { class: "meta" },
          `${count.estimated ? "about " : ""}${plural(count.value, "job")}`,
        )
        : null,
      h("span", { class: "spacer" }),
      h("button", {
        type: "button",
        "data-key": "prev",
        disabled: !page.prevCursor,
        onclick: () => ctx.navigate({ cursor: page.prevCursor ?? "", direction: "prev" }),
      }, "← Newer"),
      h("button", {
        type: "button",
        "data-key": "next",
        disabled: !page.nextCursor,
        onclick: () => ctx.navigate({ cursor: page.nextCursor ?? "", direction: "next" }),
      }, "Older →"),
      s.cursor
        ? h("button", {
          type: "button",
          class: "link",
          onclick: () => ctx.navigate({ cursor: "" }),
        }, "First page")
        : null,
    );
  }

  /** @param {any} s */
  function update(s) {
    syncForm(s);
  }
  return { el, load, update };
}
