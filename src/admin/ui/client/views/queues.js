// Queues: every named queue, locked or not and by whom, with its job counts.
import { api } from "../api.js";
import { h, replace } from "../render.js";
import { num, pageHead, queueCells, table, timeCell } from "./common.js";

const COLUMNS = ["ready", "blocked", "scheduled", "retrying", "running", "failed", "total"];

/** @param {any} ctx */
export function queuesView(ctx) {
  const list = h("div");
  const el = h(
    "section",
    null,
    pageHead("Queues"),
    h(
      "p",
      { class: "meta" },
      "Jobs of one named queue run one at a time, in order; a queue is locked while one runs.",
    ),
    h("div", { class: "panel" }, list),
  );
  async function load() {
    const data = await api("queues");
    const rows = data.queues.map((/** @type {any} */ q) =>
      h(
        "tr",
        { "data-queue": q.name },
        queueCells(ctx, q),
        h("td", null, timeCell(q.lockedAt)),
        COLUMNS.map((c) => num(q.counts?.[c])),
      )
    );
    if (data.unqueued?.total) {
      rows.push(h(
        "tr",
        null,
        h("td", { class: "meta" }, "(no queue)"),
        h("td", null, "—"),
        h("td", null, "—"),
        COLUMNS.map((c) => num(data.unqueued[c])),
      ));
    }
    replace(
      list,
      table({
        caption: "Named queues",
        head: [
          "Queue",
          "Lock",
          "Locked since",
          ...COLUMNS.map((
            c,
          ) => /** @type {[string, string]} */ ([c[0].toUpperCase() + c.slice(1), "num"])),
        ],
        rows,
        empty: "No named queues (jobs without a queue run in parallel).",
      }),
    );
  }
  return { el, load };
}
