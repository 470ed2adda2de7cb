// Cron: the crontab identifiers the database knows and when each last ran.
import { api } from "../api.js";
import { h, replace } from "../render.js";
import { pageHead, table, timeCell } from "./common.js";

/** @param {any} _ctx */
export function cronView(_ctx) {
  const list = h("div");
  const el = h("section", null, pageHead("Cron"), h("div", { class: "panel" }, list));
  async function load() {
    const data = await api("crontabs");
    replace(
      list,
      table({
        caption: "Known crontab items",
        head: ["Identifier", "Known since", "Last execution"],
        rows: data.crontabs.map((/** @type {any} */ c) =>
          h(
            "tr",
            null,
            h("td", { class: "mono" }, c.identifier),
            h("td", null, timeCell(c.knownSince)),
            h("td", null, c.lastExecution ? timeCell(c.lastExecution) : "never"),
          )
        ),
        empty: "No crontab items known (a worker with a crontab registers them).",
      }),
    );
  }
  return { el, load };
}
