// The job actions (run now, retry, reschedule, fail, cancel, complete, delete), shared by the bulk bar,
// the table rows and the job drawer: one confirmation dialog and one request shape.
import { api } from "../api.js";
import { confirmDialog, toast } from "../dialogs.js";
import { isoToLocalInput, localInputToIso, plural } from "../format.js";

/**
 * @typedef {{ action: string, label: string, verb: string, danger?: boolean,
 *   confirmAlways?: boolean, fields?: import("../dialogs.js").Field[] }} ActionDef
 */

/** @type {ActionDef[]} */
export const ACTIONS = [
  { action: "run-now", label: "Run now", verb: "Run now" },
  { action: "retry", label: "Retry", verb: "Retry (attempts reset to 0, run now)" },
  {
    action: "reschedule",
    label: "Reschedule",
    verb: "Reschedule",
    confirmAlways: true,
    fields: [
      { name: "runAt", label: "Run at (your local time)", type: "datetime-local", required: true },
      {
        name: "priority",
        label: "Priority (optional)",
        type: "number",
        min: "-32768",
        max: "32767",
      },
    ],
  },
  {
    action: "fail",
    label: "Fail",
    verb: "Permanently fail",
    danger: true,
    fields: [{ name: "reason", label: "Reason", value: "Failed from the Spool dashboard" }],
  },
  {
    action: "cancel",
    label: "Cancel",
    verb: "Cancel (a running job is stopped by its worker; never retried)",
    danger: true,
    fields: [{ name: "reason", label: "Reason", value: "Cancelled from the Spool dashboard" }],
  },
  { action: "complete", label: "Complete", verb: "Complete (removes the rows)", danger: true },
  { action: "delete", label: "Delete", verb: "Delete", danger: true },
];

/**
 * Asks for confirmation (destructive actions, and every action on more than one job), then
 * sends `POST api/jobs/actions`. Resolves true when the server acted.
 * @param {any} ctx
 * @param {ActionDef} def
 * @param {{ ids: string[] } | { filter: Record<string, string>, expectedCount: number }} target
 * @returns {Promise<boolean>}
 */
export async function runAction(ctx, def, target) {
  const n = "ids" in target ? target.ids.length : target.expectedCount;
  const what = "ids" in target
    ? (n === 1 ? `job ${target.ids[0]}` : plural(n, "selected job"))
    : `all ${plural(n, "job")} matching this filter`;
  /** @type {Record<string, string>} */
  let values = {};
  if (def.danger || def.confirmAlways || n > 1) {
    const fields = def.fields?.map((f) =>
      f.name === "runAt" ? { ...f, value: isoToLocalInput(new Date().toISOString()) } : f
    );
    const answer = await confirmDialog({
      title: `${def.label} ${plural(n, "job")}?`,
      message: `${def.verb}: ${what}.${def.danger ? " This cannot be undone." : ""}`,
      confirm: `${def.label} ${plural(n, "job")}`,
      danger: def.danger,
      fields,
    });
    if (!answer) return false;
    values = answer;
  }
  /** @type {Record<string, unknown>} */
  const body = { action: def.action, ...target };
  if (values.reason) body.reason = values.reason;
  if (values.runAt) body.runAt = localInputToIso(values.runAt);
  if (values.priority) body.priority = Number(values.priority);
  try {
    const result = await api("jobs/actions", { method: "POST", body });
    const skipped = result.skipped?.length ?? 0;
    toast(
      `${def.label}: ${plural(result.affected?.length ?? 0, "job")} done` +
        (skipped ? `, ${skipped} skipped (${reasons(result.skipped)})` : "") + ".",
    );
    await ctx.reload();
    return true;
  } catch (e) {
    ctx.fail(e);
    return false;
  }
}

/** @param {{ reason: string }[]} skipped */
function reasons(skipped) {
  return [...new Set(skipped.map((s) => s.reason))].join(", ");
}

/**
 * The actions that make sense for a job in this state. A running job can only be cancelled:
 * the server never otherwise touches a job a worker holds (it would report it skipped).
 * @param {string} state
 * @returns {ActionDef[]}
 */
export function actionsFor(state) {
  if (state === "running") return ACTIONS.filter((a) => a.action === "cancel");
  const skip = state === "failed" ? ["run-now", "fail", "cancel"] : ["retry"];
  return ACTIONS.filter((a) => !skip.includes(a.action));
}
