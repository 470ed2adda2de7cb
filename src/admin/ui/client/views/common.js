// Small pieces shared by the views: time cells, state badges, tables, empty states.
import { h } from "../render.js";
import { formatAbsolute, formatCount, formatRelative } from "../format.js";

/** Job states in display order, with their labels. */
export const STATE_LABELS = {
  ready: "Ready",
  blocked: "Blocked",
  scheduled: "Scheduled",
  retrying: "Retrying",
  running: "Running",
  failed: "Failed",
};

/**
 * A relative time with the absolute UTC time on hover (and for screen readers via datetime).
 * @param {string | null | undefined} iso
 * @returns {HTMLElement | string}
 */
export function timeCell(iso) {
  if (!iso) return "—";
  return h("time", { datetime: iso, title: formatAbsolute(iso) }, formatRelative(iso, Date.now()));
}

/** @param {string} state */
export function stateBadge(state) {
  return h(
    "span",
    { class: ["badge", state] },
    STATE_LABELS[/** @type {keyof STATE_LABELS} */ (state)] ?? state,
  );
}

/**
 * A table with a caption for screen readers; `rows` empty shows `empty` in one wide cell.
 * @param {{ caption: string, head: (string | [string, string])[], rows: Node[], empty: string }} t
 */
export function table(t) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      null,
      h("caption", { class: "visually-hidden" }, t.caption),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          t.head.map((c) =>
            Array.isArray(c) ? h("th", { class: c[1], scope: "col" }, c[0]) : h("th", {
              scope: "col",
            }, c)
          ),
        ),
      ),
      h(
        "tbody",
        null,
        t.rows.length
          ? t.rows
          : h("tr", null, h("td", { colspan: String(t.head.length), class: "empty" }, t.empty)),
      ),
    ),
  );
}

/** @param {number | null | undefined} n */
export function num(n) {
  return h("td", { class: "num" }, formatCount(n ?? 0));
}

/**
 * A page heading with an optional line of controls at the right.
 * @param {string} title
 * @param {...import("../render.js").Child} controls
 */
export function pageHead(title, ...controls) {
  return h("div", { class: "row" }, h("h1", null, title), h("span", { class: "spacer" }), controls);
}

/**
 * The name (a link to its jobs) and lock cells of a queue row.
 * @param {any} ctx
 * @param {{ name: string, lockedBy: string | null }} q
 */
export function queueCells(ctx, q) {
  return [
    h(
      "td",
      null,
      h("a", { href: ctx.href({ view: "jobs", queue: q.name }), "data-nav": "" }, q.name),
    ),
    h(
      "td",
      null,
      q.lockedBy ? h("span", { class: "badge locked" }, `locked by ${q.lockedBy}`) : "free",
    ),
  ];
}
