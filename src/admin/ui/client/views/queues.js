// Queues: every named queue, locked or not and by whom, with its job counts.
import { api } from "../api.js";
import { h, replace } from "../render.js";
import { num, pageHead, table, timeCell } from "./common.js";

/** @param {any} ctx */
export function queuesView(ctx) {
  const list = h("div");
  const el = h("section", null, pageHead("Queues"), h("div", { class: "panel" }, list));
  async function load() {
    const data = await api("queues");
    replace(
      list,
      table({
        caption: "Named queues",
        head: ["Queue", "Lock", "Locked since", ["Jobs", "num"]],
        rows: data.queues.map((/** @type {any} */ q) =>
          h(
            "tr",
            null,
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
            h("td", null, timeCell(q.lockedAt)),
            num(q.jobCount ?? q.counts?.total ?? 0),
          )
        ),
        empty: "No named queues (jobs without a queue run in parallel).",
      }),
    );
  }
  return { el, load };
}
