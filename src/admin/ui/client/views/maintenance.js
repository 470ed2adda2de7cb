// Maintenance: cleanup with a choice of tasks, a stale-worker sweep previewed as a dry run
// first, and migrate only when the server allows it. Everything asks before it acts.
import { api } from "../api.js";
import { h, replace } from "../render.js";
import { confirmDialog, toast } from "../dialogs.js";
import { plural, prettyJson } from "../format.js";
import { pageHead } from "./common.js";

const CLEANUP_TASKS = [
  ["DELETE_PERMAFAILED_JOBS", "Delete permanently failed jobs (not locked)"],
  ["GC_TASK_IDENTIFIERS", "Forget task identifiers no job uses"],
  ["GC_JOB_QUEUES", "Forget empty, unlocked queues"],
];

/** @param {any} ctx */
export function maintenanceView(ctx) {
  const boxes = CLEANUP_TASKS.map((
    [value],
  ) => /** @type {HTMLInputElement} */ (h("input", {
    type: "checkbox",
    name: "task",
    value,
    checked: value !== "DELETE_PERMAFAILED_JOBS",
  })));
  const preview = h("div", { "aria-live": "polite" });
  const migrateInfo = h("p", { class: "meta" });
  const el = h(
    "section",
    null,
    pageHead("Maintenance"),
    h(
      "section",
      { class: "panel" },
      h("h2", null, "Cleanup"),
      h(
        "fieldset",
        { class: "plain" },
        h("legend", { class: "meta" }, "Tasks to run"),
        CLEANUP_TASKS.map(([, label], i) => h("label", { class: "inline" }, boxes[i], label)),
      ),
      h(
        "div",
        { class: "row" },
        h("button", { type: "button", class: "danger", onclick: cleanup }, "Run cleanup…"),
      ),
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", null, "Stale workers"),
      h(
        "p",
        { class: "meta" },
        "Finds workers whose heartbeat stopped and releases their jobs for retry. Preview first.",
      ),
      h(
        "div",
        { class: "row" },
        h("button", { type: "button", onclick: () => sweep(true) }, "Preview sweep (dry run)"),
        h("button", { type: "button", class: "danger", onclick: () => sweep(false) }, "Sweep…"),
      ),
      preview,
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", null, "Migrations"),
      migrateInfo,
      ctx.session.allowMigrate
        ? h(
          "div",
          { class: "row" },
          h("button", { type: "button", class: "danger", onclick: migrate }, "Migrate…"),
        )
        : null,
    ),
  );

  async function load() {
    replace(
      migrateInfo,
      `Schema ${ctx.session.schema}, Spool ${ctx.session.version}. `,
      ctx.session.allowMigrate
        ? "Migrating applies any pending migrations."
        : "Migrating from the dashboard is off (the server's allowMigrate option).",
    );
    return await Promise.resolve();
  }

  async function cleanup() {
    const tasks = boxes.filter((b) => b.checked).map((b) => b.value);
    if (tasks.length === 0) return toast("Choose at least one cleanup task.", "error");
    const ok = await confirmDialog({
      title: "Run cleanup?",
      message: `Runs: ${tasks.join(", ")}. Deleted jobs cannot be restored.`,
      confirm: "Run cleanup",
      danger: true,
    });
    if (!ok) return;
    const r = await post({ action: "cleanup", tasks });
    if (r) {
      toast(
        `Cleanup: deleted ${plural(r.deletedJobs ?? 0, "job")}, ` +
          `${plural(r.deletedTaskIdentifiers ?? 0, "task identifier")}, ` +
          `${plural(r.deletedJobQueues ?? 0, "queue")}.`,
      );
    }
  }

  /** @param {boolean} dryRun */
  async function sweep(dryRun) {
    if (!dryRun) {
      const ok = await confirmDialog({
        title: "Sweep stale workers?",
        message: "Releases the jobs of every worker whose heartbeat is stale, so they run again.",
        confirm: "Sweep",
        danger: true,
      });
      if (!ok) return;
    }
    const r = await post({ action: "sweep", dryRun });
    if (r) {
      const workers = [...(r.workerIds ?? []), ...(r.unregisteredIds ?? [])];
      replace(
        preview,
        h("h3", null, dryRun ? "Dry run: nothing was changed" : "Sweep result"),
        h(
          "p",
          { "data-testid": "sweep-summary" },
          workers.length
            ? `${dryRun ? "Would release" : "Released"} ${plural(r.jobIds?.length ?? 0, "job")} ` +
              `and ${plural(r.unlockedQueues?.length ?? r.unlockedQueues ?? 0, "queue")} of ` +
              `${plural(workers.length, "stale worker")}: ${workers.join(", ")}.`
            : "No stale worker found.",
        ),
        h("details", null, h("summary", null, "Full answer"), h("pre", null, prettyJson(r))),
      );
    }
  }

  async function migrate() {
    const ok = await confirmDialog({
      title: "Run migrations?",
      message: `Applies pending migrations to schema ${ctx.session.schema}.`,
      confirm: "Migrate",
      danger: true,
    });
    if (!ok) return;
    const r = await post({ action: "migrate" });
    if (r) {
      toast(
        `Migrated: ${r.applied?.length ? `applied ${r.applied.join(", ")}` : "nothing to apply"}.`,
      );
    }
  }

  /** @param {Record<string, unknown>} body */
  async function post(body) {
    try {
      return await api("maintenance", { method: "POST", body });
    } catch (e) {
      ctx.fail(e);
      return null;
    }
  }
  return { el, load };
}
