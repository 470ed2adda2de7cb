// Pure formatting helpers for the dashboard (no DOM): times, durations, numbers, JSON.
// Kept free of browser globals so tests run them under Deno and Bun.

const UNITS = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
];

/**
 * A short duration: "45s", "3m 20s", "2h 5m", "4d 1h". Milliseconds under a second read "0s".
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return "—";
  let rest = Math.max(0, Math.round(Math.abs(ms) / 1000) * 1000);
  const parts = [];
  for (const [unit, size] of UNITS) {
    if (rest >= size || (unit === "s" && parts.length === 0)) {
      const n = Math.floor(rest / size);
      rest -= n * size;
      parts.push(`${n}${unit}`);
    }
    if (parts.length === 2) break;
  }
  // Two parts at most, and never a zero second part ("3m", not "3m 0s").
  return parts.filter((p, i) => i === 0 || !/^0/.test(p)).join(" ");
}

/**
 * A time relative to `now`: "just now", "5m ago", "in 2h 3m".
 * @param {string | number | Date | null | undefined} value
 * @param {number} now epoch milliseconds
 * @returns {string}
 */
export function formatRelative(value, now) {
  const t = toEpoch(value);
  if (t === null) return "—";
  const diff = t - now;
  if (Math.abs(diff) < 1_000) return "just now";
  const text = formatDuration(diff);
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

/**
 * The absolute time shown on hover, in UTC so operators in different zones read the same text:
 * "2026-12-01 22:33:15 UTC".
 * @param {string | number | Date | null | undefined} value
 * @returns {string}
 */
export function formatAbsolute(value) {
  const t = toEpoch(value);
  if (t === null) return "";
  return new Date(t).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
}

/**
 * Epoch milliseconds of an ISO string, a number or a Date; null for nothing or garbage.
 * @param {string | number | Date | null | undefined} value
 * @returns {number | null}
 */
export function toEpoch(value) {
  if (value === null || value === undefined || value === "") return null;
  const t = value instanceof Date
    ? value.getTime()
    : typeof value === "number"
    ? value
    : Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

/**
 * A count with thousands separators: 1234567 → "1,234,567".
 * @param {number | null | undefined} n
 * @returns {string}
 */
export function formatCount(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "—";
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.trunc(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Pretty JSON for the drawer; a value JSON cannot represent is shown as its string form.
 * @param {unknown} value
 * @returns {string}
 */
export function prettyJson(value) {
  try {
    const text = JSON.stringify(value, null, 2);
    return text === undefined ? String(value) : text;
  } catch {
    return String(value);
  }
}

/**
 * One line of at most `max` characters (an ellipsis marks the cut), for table cells.
 * @param {string | null | undefined} text
 * @param {number} max
 * @returns {string}
 */
export function truncate(text, max) {
  if (!text) return "";
  const line = String(text).replace(/\s+/g, " ").trim();
  return line.length <= max ? line : line.slice(0, Math.max(1, max - 1)) + "…";
}

/**
 * The value of an `<input type="datetime-local">` (local wall time) as an ISO instant, or null.
 * @param {string} local e.g. "2026-12-01T22:30"
 * @returns {string | null}
 */
export function localInputToIso(local) {
  if (!local) return null;
  const t = new Date(local).getTime();
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/**
 * An ISO instant as the value of an `<input type="datetime-local">` in the local zone.
 * @param {string | null | undefined} iso
 * @returns {string}
 */
export function isoToLocalInput(iso) {
  const t = toEpoch(iso);
  if (t === null) return "";
  const d = new Date(t);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * Parses the payload text of a form: JSON, with a message naming the problem when it is not.
 * @param {string} text
 * @returns {{ ok: true, value: unknown } | { ok: false, message: string }}
 */
export function parseJsonInput(text) {
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, message: `not valid JSON: ${e instanceof Error ? e.message : e}` };
  }
}

/**
 * "1 job" / "3 jobs".
 * @param {number} n
 * @param {string} word singular
 * @returns {string}
 */
export function plural(n, word) {
  return `${formatCount(n)} ${word}${n === 1 ? "" : "s"}`;
}
