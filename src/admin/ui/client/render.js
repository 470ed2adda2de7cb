// A tiny DOM builder: elements from tags, attributes and children, never from HTML strings, so
// text from the API can never become markup. No inline styles (the CSP forbids them).

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * @typedef {Record<string, unknown>} Attrs
 * @typedef {Node | string | number | null | undefined | false | Child[]} Child
 */

/**
 * Creates an HTML element. `on*` attributes with a function value become listeners; `class`
 * accepts a string or a list (falsy entries dropped); `true` sets a boolean attribute, `false`,
 * null and undefined leave it out; `value`, `checked` and `selected` set the properties.
 * @param {string} tag
 * @param {Attrs | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs ?? {});
  append(el, children);
  return el;
}

/**
 * Creates an SVG element (same rules as {@link h}).
 * @param {string} tag
 * @param {Attrs | null} [attrs]
 * @param {...Child} children
 * @returns {SVGElement}
 */
export function s(tag, attrs, ...children) {
  const el = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  apply(el, attrs ?? {});
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {Attrs} attrs
 */
function apply(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (name === "class") {
      const list = Array.isArray(value) ? value.filter(Boolean).join(" ") : String(value);
      if (list) el.setAttribute("class", list);
    } else if (name === "value" || name === "checked" || name === "selected") {
      /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

/**
 * @param {Node} parent
 * @param {Child[]} children
 */
function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * Replaces a container's children, keeping keyboard focus on the element with the same
 * `data-key` when the focused element was inside (polling re-renders must not steal focus).
 * @param {Element} container
 * @param {...Child} children
 */
export function replace(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute("data-key") : null;
  const fragment = document.createDocumentFragment();
  append(fragment, children);
  container.replaceChildren(fragment);
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again instanceof HTMLElement || again instanceof SVGElement) again.focus();
  }
}
