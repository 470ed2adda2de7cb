// Modal dialogs on <dialog>: confirmations for every destructive action (with optional fields
// such as a reason or a time) and the messages area for results and errors.
import { h } from "./render.js";

/**
 * @typedef {{
 *   name: string, label: string, type?: string, value?: string, required?: boolean,
 *   options?: [string, string][], placeholder?: string, min?: string, max?: string
 * }} Field
 */

/**
 * Asks for confirmation. Resolves with the field values (an empty object when there are no
 * fields) on confirm, or null when cancelled (button, Escape or backdrop).
 * @param {{ title: string, message: string | Node, confirm: string, danger?: boolean,
 *   fields?: Field[] }} options
 * @returns {Promise<Record<string, string> | null>}
 */
export function confirmDialog(options) {
  return new Promise((resolve) => {
    const inputs = (options.fields ?? []).map(fieldInput);
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", { id: "dialog-title" }, options.title),
      h("div", { class: "dialog-message" }, options.message),
      inputs.map((i) => i.label),
      h(
        "div",
        { class: "buttons" },
        h("button", { type: "button", value: "cancel", "data-action": "cancel" }, "Cancel"),
        h(
          "button",
          {
            type: "submit",
            value: "confirm",
            class: ["primary", options.danger && "danger"],
            "data-action": "confirm",
          },
          options.confirm,
        ),
      ),
    );
    const dialog = h("dialog", { "aria-labelledby": "dialog-title", class: "confirm" }, form);
    let result = /** @type {Record<string, string> | null} */ (null);
    form.addEventListener("submit", () => {
      result = {};
      for (const i of inputs) result[i.name] = i.input.value;
    });
    form.querySelector('[data-action="cancel"]')?.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

/**
 * @param {Field} f
 * @returns {{ name: string, input: HTMLInputElement | HTMLSelectElement, label: HTMLElement }}
 */
function fieldInput(f) {
  const input = f.options
    ? /** @type {HTMLSelectElement} */ (h(
      "select",
      { name: f.name },
      f.options.map(([value, text]) => h("option", { value, selected: value === f.value }, text)),
    ))
    : /** @type {HTMLInputElement} */ (h("input", {
      name: f.name,
      type: f.type ?? "text",
      value: f.value ?? "",
      required: f.required,
      placeholder: f.placeholder,
      min: f.min,
      max: f.max,
    }));
  return { name: f.name, input, label: h("label", null, f.label, input) };
}

/** @type {HTMLElement | null} */
let messages = null;

/**
 * Shows a short message in the corner; errors stay until dismissed, results fade after a while.
 * @param {string} text
 * @param {"ok" | "error"} [kind]
 */
export function toast(text, kind = "ok") {
  if (!messages || !messages.isConnected) {
    messages = h("div", { class: "messages", role: "status", "aria-live": "polite" });
    document.body.appendChild(messages);
  }
  const close = h("button", { type: "button", class: "small link", "aria-label": "Dismiss" }, "×");
  const item = h("div", { class: ["toast", kind === "error" && "error"] }, text, " ", close);
  close.addEventListener("click", () => item.remove());
  messages.appendChild(item);
  if (kind !== "error") setTimeout(() => item.remove(), 6000);
}
