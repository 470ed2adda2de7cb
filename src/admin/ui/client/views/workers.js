// Workers: registered workers with their heartbeat age and stale status, and every lock
// holder with the jobs and queues it holds; force-unlock after a confirmation.
import { api } from "../api.js";
import { h, replace } from "../render.js";
import { confirmDialog, toast } from "../dialogs.js";
import { formatDuration, plural } from "../format.js";
import { num, pageHead, table, timeCell } from "./common.js";

/** @param {any} ctx */
export function workersView(ctx) {
  const registered = h("div");
  const holders = h("div");
  const el = h(
    "section",
    null,
    pageHead("Workers"),
    h("section", { class: "panel" }, h("h2", null, "Registered workers (heartbeats)"), registered),
    h("section", { class: "panel" }, h("h2", null, "Lock holders"), holders),
  );

  async function load() {
    const data = await api("workers");
    replace(
      registered,
      table({
        caption: "Registered workers",
        head: ["Worker", "Status", "Last heartbeat", "Started", ["Jobs held", "num"]],
        rows: (data.workers ?? []).map((/** @type {any} */ w) =>
          h(
            "tr",
            null,
            h("td", { class: "mono" }, w.id),
            h(
              "td",
              null,
              h(
                "span",
                { class: ["badge", w.stale ? "stale" : "ok"] },
                w.stale ? "stale" : "healthy",
              ),
            ),
            h(
              "td",
              { title: `heartbeat ${formatDuration(w.heartbeatAgeMs ?? 0)} ago` },
              timeCell(w.lastHeartbeatAt),
            ),
            h("td", null, timeCell(w.startedAt)),
            num(w.jobs ?? 0),
          )
        ),
        empty: "No worker has registered a heartbeat.",
      }),
    );
    replace(
      holders,
      table({
        caption: "Lock holders",
        head: [
          "Locked by",
          ["Jobs", "num"],
          ["Queues", "num"],
          "Newest lock",
          "Registered",
          ...(ctx.canWrite ? [""] : []),
        ],
        rows: (data.lockHolders ?? []).map((/** @type {any} */ l) =>
          h(
            "tr",
            null,
            h("td", { class: "mono" }, l.lockedBy),
            num(l.jobs),
            num(l.queues),
            h("td", null, timeCell(l.newestLockAt)),
            h("td", null, l.registered ? "yes" : h("span", { class: "badge stale" }, "no")),
            ctx.canWrite
              ? h(
                "td",
                null,
                h("button", {
                  type: "button",
                  class: "small danger",
                  "data-key": `unlock-${l.lockedBy}`,
                  onclick: () => forceUnlock(l),
                }, "Force unlock"),
              )
              : null,
          )
        ),
        empty: "No worker holds a lock.",
      }),
    );
  }

  /** @param {any} l */
  async function forceUnlock(l) {
    const ok = await confirmDialog({
      title: `Force-unlock ${l.lockedBy}?`,
      message: `Releases ${plural(l.jobs, "job")} and ${plural(l.queues, "queue")} locked by ` +
        `${l.lockedBy}. Only do this when that worker is gone: a live worker would keep running ` +
        "jobs that another worker may then also take.",
      confirm: "Force unlock",
      danger: true,
    });
    if (!ok) return;
    try {
      const result = await api("maintenance", {
        method: "POST",
        body: { action: "force-unlock", workerIds: [l.lockedBy] },
      });
      toast(result.message ?? `Unlocked ${l.lockedBy}.`);
      await ctx.reload();
    } catch (e) {
      ctx.fail(e);
    }
  }
  return { el, load };
}
