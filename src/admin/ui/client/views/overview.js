// Overview: state cards, a chart of the counts sampled by this page's polling, the next hour's
// schedule, the oldest ready job's age, and per-task and per-queue tables.
import { h, replace, s } from "../render.js";
import { bars, linePath, niceCeiling } from "../chart_math.js";
import { formatAbsolute, formatCount, formatDuration } from "../format.js";
import { num, pageHead, queueCells, STATE_LABELS, table } from "./common.js";

const STATES = /** @type {(keyof STATE_LABELS)[]} */ (Object.keys(STATE_LABELS));
const W = 600;
const H = 160;

/** @param {any} ctx */
export function overviewView(ctx) {
  const cards = h("div", { class: "cards" });
  const oldest = h("p", { class: "meta", id: "oldest-ready" });
  const chart = h("div");
  const histogram = h("div");
  const tasks = h("div");
  const queues = h("div");
  const el = h(
    "section",
    { "aria-labelledby": "page-title" },
    pageHead("Overview"),
    cards,
    oldest,
    h(
      "div",
      { class: "grid-2" },
      h("section", { class: "panel" }, h("h2", null, "Counts over time"), chart),
      h("section", { class: "panel" }, h("h2", null, "Scheduled in the next hour"), histogram),
    ),
    h(
      "div",
      { class: "grid-2" },
      h("section", { class: "panel" }, h("h2", null, "By task"), tasks),
      h("section", { class: "panel" }, h("h2", null, "By queue"), queues),
    ),
  );
  el.querySelector("h1")?.setAttribute("id", "page-title");

  async function load() {
    const o = await ctx.overview();
    const c = o.counts;
    replace(
      cards,
      STATES.map((st) => card(ctx, st, STATE_LABELS[st], c[st])),
      card(ctx, "", "Total", c.total),
    );
    const waitedSince = o.oldestReadyAgeMs === null
      ? null
      : new Date(Date.parse(o.now) - o.oldestReadyAgeMs).toISOString();
    replace(
      oldest,
      waitedSince
        ? h(
          "span",
          { title: `ready since ${formatAbsolute(waitedSince)}` },
          "Oldest ready job has waited ",
          h("strong", { "data-testid": "oldest-ready-age" }, formatDuration(o.oldestReadyAgeMs)),
          ".",
        )
        : "No job is waiting to run.",
      o.countsMeta?.estimated ? " Counts are estimated from a sample (large table)." : "",
    );
    replace(chart, countsChart(ctx.samples));
    replace(histogram, scheduleChart(o.schedule));
    replace(
      tasks,
      groupTable(
        "Jobs by task",
        "Task",
        o.tasks,
        (t) =>
          h(
            "a",
            { href: ctx.href({ view: "jobs", task: t.identifier }), "data-nav": "" },
            t.identifier,
          ),
      ),
    );
    replace(queues, queueTable(ctx, o.queues));
  }
  return { el, load };
}

/**
 * @param {any} ctx
 * @param {string} state
 * @param {string} label
 * @param {number} value
 */
function card(ctx, state, label, value) {
  return h(
    "a",
    {
      class: ["card", state],
      href: ctx.href({ view: "jobs", state }),
      "data-nav": "",
      "data-card": state || "total",
    },
    h("div", { class: "label" }, label),
    h("div", { class: "value" }, formatCount(value ?? 0)),
  );
}

/** @param {{ t: number, counts: Record<string, number> }[]} samples */
function countsChart(samples) {
  if (samples.length < 2) {
    return h(
      "p",
      { class: "meta" },
      "The chart fills in as this page polls (turn Live on to sample the counts).",
    );
  }
  const top = niceCeiling(
    Math.max(...samples.flatMap((x) => STATES.map((st) => x.counts[st] ?? 0))),
  );
  const span = samples[samples.length - 1].t - samples[0].t;
  return [
    chartSvg(
      `Job counts by state over the last ${formatDuration(span)}`,
      gridLines(top),
      STATES.map((st) =>
        s("path", {
          class: ["line", st],
          d: linePath(samples.map((x) => x.counts[st] ?? 0), top, W, H),
        })
      ),
    ),
    legend(STATES.map((st) => [st, STATE_LABELS[st]])),
    h("p", { class: "meta" }, `Last ${formatDuration(span)}, ${samples.length} samples.`),
  ];
}

/** @param {{ bucketMs: number, buckets: number[] } | null} schedule */
function scheduleChart(schedule) {
  const nextHour = schedule && { bucketMs: schedule.bucketMs, counts: schedule.buckets };
  if (!nextHour || nextHour.counts.every((n) => n === 0)) {
    return h("p", { class: "empty" }, "No jobs scheduled in the next hour.");
  }
  const top = niceCeiling(Math.max(...nextHour.counts));
  const minutes = nextHour.bucketMs / 60_000;
  const total = nextHour.counts.reduce((a, b) => a + b, 0);
  return [
    chartSvg(
      `${total} jobs scheduled in the next hour, in ${minutes}-minute buckets`,
      gridLines(top),
      bars(nextHour.counts, top, W, H, 4).map((b, i) =>
        s(
          "rect",
          { class: "bar", x: b.x, y: b.y, width: b.w, height: b.h },
          s("title", null, `+${i * minutes}–${(i + 1) * minutes} min: ${nextHour.counts[i]}`),
        )
      ),
      s("text", { class: "axis", x: 0, y: H + 16 }, "now"),
      s("text", { class: "axis", x: W, y: H + 16, "text-anchor": "end" }, "+60 min"),
    ),
    h("p", { class: "meta" }, `${formatCount(total)} jobs, ${minutes}-minute buckets.`),
  ];
}

/**
 * An SVG chart of the shared size, described for screen readers by `label`.
 * @param {string} label
 * @param {...import("../render.js").Child} children
 */
function chartSvg(label, ...children) {
  return s("svg", {
    class: "chart",
    viewBox: `0 0 ${W} ${H + 20}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": label,
  }, children);
}

/** @param {number} top */
function gridLines(top) {
  return [0, 0.5, 1].map((f) => [
    s("line", { class: "grid", x1: 0, x2: W, y1: H - f * H, y2: H - f * H }),
    f > 0 && Number.isInteger(top * f)
      ? s("text", { class: "axis", x: 2, y: H - f * H + 12 }, formatCount(top * f))
      : null,
  ]);
}

/** @param {[string, string][]} items */
function legend(items) {
  return h(
    "ul",
    { class: "legend" },
    items.map(([cls, label]) => h("li", null, h("span", { class: ["swatch", cls] }), label)),
  );
}

/**
 * @param {string} caption
 * @param {string} first
 * @param {{ identifier: string, counts: Record<string, number> }[]} groups
 * @param {(g: any) => Node | string} nameCell
 */
function groupTable(caption, first, groups, nameCell) {
  return table({
    caption,
    head: [
      first,
      ...STATES.map((st) => /** @type {[string, string]} */ ([STATE_LABELS[st], "num"])),
      [
        "Total",
        "num",
      ],
    ],
    rows: groups.map((g) =>
      h(
        "tr",
        null,
        h("td", null, nameCell(g)),
        STATES.map((st) => num(g.counts[st])),
        num(g.counts.total),
      )
    ),
    empty: "No jobs.",
  });
}

/**
 * @param {any} ctx
 * @param {{ name: string, lockedBy: string | null, counts: Record<string, number> }[]} queues
 */
function queueTable(ctx, queues) {
  return table({
    caption: "Jobs by queue",
    head: [
      "Queue",
      "Lock",
      ["Ready", "num"],
      ["Blocked", "num"],
      ["Running", "num"],
      ["Failed", "num"],
      ["Total", "num"],
    ],
    rows: queues.map((q) =>
      h(
        "tr",
        null,
        queueCells(ctx, q),
        num(q.counts.ready),
        num(q.counts.blocked),
        num(q.counts.running),
        num(q.counts.failed),
        num(q.counts.total),
      )
    ),
    empty: "No named queues.",
  });
}
