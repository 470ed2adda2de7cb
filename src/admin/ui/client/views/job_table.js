// The jobs table: one row per job with its selection checkbox, a link that opens the drawer,
// and the per-row actions; the empty state says what is empty.
import { h } from "../render.js";
import { truncate } from "../format.js";
import { hasFilters } from "../url_state.js";
import { STATE_LABELS, stateBadge, table, timeCell } from "./common.js";
import { actionsFor, runAction } from "./job_actions.js";

const ROW_ACTIONS = ["run-now", "retry", "delete"];

/**
 * @param {any} ctx
 * @param {any[]} rows
 * @param {Set<string>} selected ids, changed in place by the checkboxes
 * @param {(narrowed: boolean) => void} changed called after a checkbox changed the selection;
 *   `narrowed` when a job left it (an "all matching" choice no longer holds)
 */
export function jobTable(ctx, rows, selected, changed) {
  const write = ctx.canWrite;
  const allOnPage = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const head = [
    ...(write
      ? [h("input", {
        type: "checkbox",
        "aria-label": "Select every job on this page",
        "data-key": "select-page",
        checked: allOnPage,
        onchange: (/** @type {Event} */ e) => {
          const on = /** @type {HTMLInputElement} */ (e.target).checked;
          for (const r of rows) on ? selected.add(r.id) : selected.delete(r.id);
          changed(!on);
        },
      })]
      : []),
    "ID",
    "Task",
    "State",
    ["Queue", "hide-narrow"],
    ["Attempts", "num hide-narrow"],
    "Run at",
    ["Last error", "hide-narrow"],
    ...(write ? [["Actions", "nowrap"]] : []),
  ];
  return table({
    caption: "Jobs",
    head: /** @type {any} */ (head),
    rows: rows.map((job) => row(ctx, job, selected, changed)),
    empty: emptyText(ctx.state),
  });
}

/**
 * @param {any} ctx
 * @param {any} job
 * @param {Set<string>} selected
 * @param {(narrowed: boolean) => void} changed
 */
function row(ctx, job, selected, changed) {
  const on = selected.has(job.id);
  const write = ctx.canWrite;
  return h(
    "tr",
    { class: on && "selected", "data-job": job.id },
    write
      ? h(
        "td",
        null,
        h("input", {
          type: "checkbox",
          checked: on,
          "data-key": `sel-${job.id}`,
          "aria-label": `Select job ${job.id}`,
          onchange: (/** @type {Event} */ e) => {
            const checked = /** @type {HTMLInputElement} */ (e.target).checked;
            if (checked) selected.add(job.id);
            else selected.delete(job.id);
            changed(!checked);
          },
        }),
      )
      : null,
    h(
      "td",
      { class: "mono" },
      h("a", {
        href: ctx.href({ job: job.id }, true),
        "data-nav": "",
        "data-key": `open-${job.id}`,
      }, job.id),
    ),
    h("td", null, job.taskIdentifier),
    h("td", null, stateBadge(job.state)),
    h("td", { class: "hide-narrow" }, job.queueName ?? "—"),
    h("td", { class: "num hide-narrow" }, `${job.attempts}/${job.maxAttempts}`),
    h("td", { class: "nowrap" }, timeCell(job.runAt)),
    h(
      "td",
      { class: "err-cell hide-narrow", title: job.lastError ?? "" },
      truncate(job.lastError, 80),
    ),
    write
      ? h(
        "td",
        { class: "nowrap" },
        actionsFor(job.state).filter((a) => ROW_ACTIONS.includes(a.action)).map((a) =>
          h("button", {
            type: "button",
            class: ["small", a.danger && "danger"],
            "data-key": `${a.action}-${job.id}`,
            "aria-label": `${a.label} job ${job.id}`,
            onclick: () => runAction(ctx, a, { ids: [job.id] }),
          }, a.label)
        ),
      )
      : null,
  );
}

/** @param {any} s */
function emptyText(s) {
  const what = s.state
    ? `${STATE_LABELS[/** @type {keyof STATE_LABELS} */ (s.state)].toLowerCase()} jobs`
    : "jobs";
  return hasFilters(s) ? `No ${what} match these filters.` : `No ${what}.`;
}
