// The job drawer: every field of one job, fetched fresh, with its actions and "copy as JSON".
// Its open job lives in the URL (`job=`), so a link opens it and Back closes it.
import { api, ApiError } from "../api.js";
import { h, replace } from "../render.js";
import { formatAbsolute, prettyJson } from "../format.js";
import { toast } from "../dialogs.js";
import { stateBadge, timeCell } from "./common.js";
import { actionsFor, runAction } from "./job_actions.js";

/** @param {any} ctx */
export function jobDrawer(ctx) {
  const body = h("div");
  const dialog = /** @type {HTMLDialogElement} */ (h(
    "dialog",
    { class: "drawer", "aria-labelledby": "drawer-title", "data-testid": "job-drawer" },
    body,
  ));
  let openId = "";
  dialog.addEventListener("close", () => {
    dialog.remove();
    const wasOpen = openId;
    openId = "";
    if (wasOpen && ctx.state.job === wasOpen) ctx.navigate({ job: "" });
  });

  /**
   * Opens (or refreshes) the drawer for `id`; an empty id closes it.
   * @param {string} id
   */
  async function show(id) {
    if (!id) {
      if (openId) {
        openId = "";
        dialog.close();
      }
      return;
    }
    /** @type {any} */
    let job = null;
    /** @type {string | null} */
    let problem = null;
    try {
      job = await api(`jobs/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        problem = `Job ${id} does not exist (any more).`;
      } else throw e;
    }
    if (ctx.state.job !== id) return;
    replace(
      body,
      job ? content(job) : header(`Job ${id}`),
      problem ? h("p", { class: "notice" }, problem) : null,
    );
    if (!dialog.isConnected) document.body.appendChild(dialog);
    if (!dialog.open) {
      openId = id;
      dialog.showModal();
      dialog.querySelector("button")?.focus();
    }
  }

  /** @param {string} title */
  function header(title, ...extra) {
    return h(
      "div",
      { class: "row" },
      h("h2", { id: "drawer-title" }, title),
      extra,
      h("span", { class: "spacer" }),
      h("button", { type: "button", "data-key": "close", onclick: () => dialog.close() }, "Close"),
    );
  }

  /** @param {any} job */
  function content(job) {
    const fields = [
      ["Task", job.taskIdentifier],
      ["Queue", job.queueName ?? "—"],
      ["Attempts", `${job.attempts} of ${job.maxAttempts}`],
      ["Run at", when(job.runAt)],
      ["Priority", String(job.priority)],
      ["Key", job.key ?? "—"],
      [
        "Flags",
        job.flags && Object.keys(job.flags).length ? Object.keys(job.flags).join(", ") : "—",
      ],
      ["Locked by", job.lockedBy ?? "—"],
      ["Locked at", when(job.lockedAt)],
      ["Revision", String(job.revision)],
      ["Created", when(job.createdAt)],
      ["Updated", when(job.updatedAt)],
      ["Available", job.isAvailable ? "yes" : "no"],
    ];
    return [
      header(`Job ${job.id}`, stateBadge(job.state)),
      ctx.canWrite && job.state === "running"
        ? h(
          "p",
          { class: "notice" },
          `A worker (${job.lockedBy}) holds this job: it can only be cancelled now (its worker ` +
            "stops it). If that worker is gone, force-unlock it on the Workers page.",
        )
        : null,
      ctx.canWrite
        ? h(
          "div",
          { class: "row", role: "group", "aria-label": "Actions on this job" },
          actionsFor(job.state).map((a) =>
            h("button", {
              type: "button",
              class: ["small", a.danger && "danger"],
              "data-key": `drawer-${a.action}`,
              onclick: () => runAction(ctx, a, { ids: [job.id] }),
            }, a.label)
          ),
        )
        : null,
      h("h3", null, "Details"),
      h("dl", { class: "fields" }, fields.map(([k, v]) => [h("dt", null, k), h("dd", null, v)])),
      h("h3", null, "Last error"),
      job.lastError
        ? h("pre", { class: "error-text", "data-testid": "last-error" }, job.lastError)
        : h("p", { class: "meta" }, "No error recorded."),
      h("h3", null, "Payload"),
      h("pre", { "data-testid": "payload" }, prettyJson(job.payload)),
      h(
        "div",
        { class: "row" },
        h("button", {
          type: "button",
          "data-key": "copy",
          onclick: () => copy(prettyJson(job)),
        }, "Copy as JSON"),
      ),
    ];
  }
  return { show };
}

/** @param {string | null} iso */
function when(iso) {
  return iso ? [timeCell(iso), h("span", { class: "meta" }, ` (${formatAbsolute(iso)})`)] : "—";
}

/** @param {string} text */
async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast("Copied the job as JSON.");
  } catch {
    toast("The browser refused clipboard access; select the payload text instead.", "error");
  }
}
