// Workers: registered workers with their heartbeat age, stale status and the locks they hold,
// and lock holders that never registered (graphile-worker processes); force-unlock confirmed.
import { api } from "../api.js";
import { h, replace } from "../render.js";
import { confirmDialog, toast } from "../dialogs.js";
import { formatDuration, plural } from "../format.js";
import { num, pageHead, table, timeCell } from "./common.js";

/** @param {any} ctx */
export function workersView(ctx) {
  const registered = h("div");
  const holders = h("div");
  const threshold = h("p", { class: "meta" });
  const el = h(
    "section",
    null,
    pageHead("Workers"),
    h(
      "section",
      { class: "panel" },
      h("h2", null, "Registered workers"),
      threshold,
      registered,
    ),
    h("section", { class: "panel" }, h("h2", null, "Unregistered lock holders"), holders),
  );
  const unlockHead = ctx.canWrite ? [["", "nowrap"]] : [];

  async function load() {
    const data = await api("workers");
    replace(
      threshold,
      `A worker is stale when its last heartbeat is older than ${
        formatDuration(data.staleThresholdMs)
      }.`,
    );
    replace(
      registered,
      table({
        caption: "Registered workers",
        head: /** @type {any} */ ([
          "Worker",
          "Status",
          "Last heartbeat",
          "Started",
          ["Jobs held", "num"],
          ["Queues held", "num"],
          ...unlockHead,
        ]),
        rows: data.workers.map((/** @type {any} */ w) =>
          h(
            "tr",
            { "data-worker": w.id },
            h("td", { class: "mono" }, w.id),
            h(
              "td",
              null,
              h(
                "span",
                { class: ["badge", w.isStale ? "stale" : "ok"] },
                w.isStale ? "stale" : "healthy",
              ),
            ),
            h(
              "td",
              { title: `${formatDuration(w.heartbeatAgeMs)} ago` },
              timeCell(w.lastHeartbeatAt),
            ),
            h("td", null, timeCell(w.startedAt)),
            num(w.lockedJobs),
            num(w.lockedQueues),
            unlockCell(w),
          )
        ),
        empty: "No worker has registered a heartbeat.",
      }),
    );
    replace(
      holders,
      table({
        caption: "Unregistered lock holders",
        head: /** @type {any} */ ([
          "Locked by",
          ["Jobs", "num"],
          ["Queues", "num"],
          "Newest lock",
          ...unlockHead,
        ]),
        rows: data.unregisteredLockHolders.map((/** @type {any} */ l) =>
          h(
            "tr",
            { "data-worker": l.id },
            h("td", { class: "mono" }, l.id),
            num(l.lockedJobs),
            num(l.lockedQueues),
            h("td", null, timeCell(l.newestLockAt)),
            unlockCell(l),
          )
        ),
        empty: "No lock is held by a worker without a heartbeat.",
      }),
    );
  }

  /** @param {{ id: string, lockedJobs: number, lockedQueues: number }} w */
  function unlockCell(w) {
    if (!ctx.canWrite) return null;
    return h(
      "td",
      null,
      h("button", {
        type: "button",
        class: "small danger",
        "data-key": `unlock-${w.id}`,
        disabled: !w.lockedJobs && !w.lockedQueues,
        onclick: () => forceUnlock(w),
      }, "Force unlock"),
    );
  }

  /** @param {{ id: string, lockedJobs: number, lockedQueues: number }} w */
  async function forceUnlock(w) {
    const ok = await confirmDialog({
      title: `Force-unlock ${w.id}?`,
      message:
        `Releases ${plural(w.lockedJobs, "job")} and ${
          plural(w.lockedQueues, "queue")
        } locked by ${w.id}. Only do this when that worker is gone: a live worker would go on ` +
        "running jobs that another worker may then take too.",
      confirm: "Force unlock",
      danger: true,
    });
    if (!ok) return;
    try {
      await api("maintenance", {
        method: "POST",
        body: { action: "force-unlock", workerIds: [w.id] },
      });
      toast(`Unlocked the jobs and queues of ${w.id}.`);
      await ctx.reload();
    } catch (e) {
      ctx.fail(e);
    }
  }
  return { el, load };
}
