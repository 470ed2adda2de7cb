// The add-job form: every option of a job (task, payload, queue, run at, priority, max
// attempts, key and key mode, flags). Errors from the server name the field and keep the form.
import { api } from "../api.js";
import { h, replace } from "../render.js";
import { localInputToIso, parseJsonInput } from "../format.js";
import { toast } from "../dialogs.js";

/** @param {any} ctx */
export function addJobDialog(ctx) {
  /** @param {string} name @param {Record<string, unknown>} [attrs] */
  const input = (
    name,
    attrs = {},
  ) => /** @type {HTMLInputElement} */ (h("input", { name, ...attrs }));
  const f = {
    identifier: input("identifier", { required: true, list: "task-list", autocomplete: "off" }),
    payload: /** @type {HTMLTextAreaElement} */ (h("textarea", {
      name: "payload",
      class: "mono",
      spellcheck: "false",
    })),
    queueName: input("queueName", { list: "queue-list" }),
    runAt: input("runAt", { type: "datetime-local" }),
    priority: input("priority", { type: "number", min: "-32768", max: "32767", placeholder: "0" }),
    maxAttempts: input("maxAttempts", {
      type: "number",
      min: "1",
      max: "32767",
      placeholder: "25",
    }),
    jobKey: input("jobKey", { maxlength: "512" }),
    jobKeyMode: /** @type {HTMLSelectElement} */ (h(
      "select",
      { name: "jobKeyMode" },
      h("option", { value: "replace" }, "replace (default)"),
      h("option", { value: "preserve_run_at" }, "preserve_run_at (keep its run at)"),
      h("option", { value: "unsafe_dedupe" }, "unsafe_dedupe"),
    )),
    flags: input("flags", { placeholder: "comma,separated" }),
  };
  f.payload.value = "{}";
  const error = h("p", { class: "field-error", role: "alert" });
  const form = h(
    "form",
    { onsubmit: submit },
    h("h2", { id: "add-title" }, "Add a job"),
    h(
      "div",
      { class: "form-grid" },
      h("label", { class: "wide" }, "Task identifier (required)", f.identifier),
      h("label", { class: "wide" }, "Payload (JSON)", f.payload),
      h("label", null, "Queue", f.queueName),
      h("label", null, "Run at (your local time; empty = now)", f.runAt),
      h("label", null, "Priority (lower runs first)", f.priority),
      h("label", null, "Max attempts", f.maxAttempts),
      h("label", null, "Job key", f.jobKey),
      h("label", null, "Key mode", f.jobKeyMode),
      h("label", { class: "wide" }, "Flags", f.flags),
    ),
    error,
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "primary" }, "Add job"),
    ),
  );
  const dialog =
    /** @type {HTMLDialogElement} */ (h("dialog", { "aria-labelledby": "add-title" }, form));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  f.identifier.focus();

  /** @param {SubmitEvent} e */
  async function submit(e) {
    e.preventDefault();
    const payload = parseJsonInput(f.payload.value);
    if (!payload.ok) {
      replace(error, `Payload: ${payload.message}`);
      f.payload.focus();
      return;
    }
    /** @type {Record<string, unknown>} */
    const options = { taskIdentifier: f.identifier.value.trim(), payload: payload.value };
    if (f.queueName.value.trim()) options.queueName = f.queueName.value.trim();
    if (f.runAt.value) options.runAt = localInputToIso(f.runAt.value);
    if (f.priority.value !== "") options.priority = Number(f.priority.value);
    if (f.maxAttempts.value !== "") options.maxAttempts = Number(f.maxAttempts.value);
    if (f.jobKey.value) {
      options.jobKey = f.jobKey.value;
      options.jobKeyMode = f.jobKeyMode.value;
    }
    const flags = f.flags.value.split(",").map((x) => x.trim()).filter(Boolean);
    if (flags.length) options.flags = flags;
    try {
      const job = await api("jobs", {
        method: "POST",
        body: options,
      });
      dialog.close();
      toast(`Added job ${job.id} (${job.taskIdentifier}).`);
      await ctx.reload();
    } catch (err) {
      replace(error, err instanceof Error ? err.message : String(err));
    }
  }
}
