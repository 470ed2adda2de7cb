/** The dashboard client's pure modules: formatting, URL state and chart geometry. */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import {
  formatAbsolute,
  formatCount,
  formatDuration,
  formatRelative,
  isoToLocalInput,
  localInputToIso,
  parseJsonInput,
  plural,
  prettyJson,
  truncate,
} from "../src/admin/ui/client/format.js";
import {
  actionFilter,
  emptyState,
  formatState,
  hasFilters,
  jobFilter,
  jobsQuery,
  parseState,
  updateState,
} from "../src/admin/ui/client/url_state.js";
import { bars, linePath, niceCeiling, pushSample } from "../src/admin/ui/client/chart_math.js";

const NOW = Date.parse("2026-12-01T12:00:00Z");

test("formatDuration: two largest units, no zero tail", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(400), "0s");
  assert.equal(formatDuration(45_000), "45s");
  assert.equal(formatDuration(200_000), "3m 20s");
  assert.equal(formatDuration(180_000), "3m");
  assert.equal(formatDuration(2 * 3600_000 + 5 * 60_000 + 7_000), "2h 5m");
  assert.equal(formatDuration(4 * 86_400_000 + 3600_000), "4d 1h");
  assert.equal(formatDuration(-90_000), "1m 30s");
  assert.equal(formatDuration(Number.NaN), "—");
});

test("formatRelative: past, future, now and nothing", () => {
  assert.equal(formatRelative("2026-12-01T11:55:00Z", NOW), "5m ago");
  assert.equal(formatRelative("2026-12-01T14:03:00Z", NOW), "in 2h 3m");
  assert.equal(formatRelative(NOW + 300, NOW), "just now");
  assert.equal(formatRelative(null, NOW), "—");
  assert.equal(formatRelative("not a date", NOW), "—");
});

test("formatAbsolute: UTC with seconds", () => {
  assert.equal(formatAbsolute("2026-12-01T22:33:15.123Z"), "2026-12-01 22:33:15 UTC");
  assert.equal(formatAbsolute(null), "");
});

test("formatCount, plural, truncate, prettyJson", () => {
  assert.equal(formatCount(1234567), "1,234,567");
  assert.equal(formatCount(999), "999");
  assert.equal(formatCount(-1200), "-1,200");
  assert.equal(formatCount(undefined), "—");
  assert.equal(plural(1, "job"), "1 job");
  assert.equal(plural(1200, "job"), "1,200 jobs");
  assert.equal(truncate("a\n  b   c", 10), "a b c");
  assert.equal(truncate("abcdefghijk", 5), "abcd…");
  assert.equal(truncate(null, 5), "");
  assert.equal(prettyJson({ a: [1] }), '{\n  "a": [\n    1\n  ]\n}');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(prettyJson(cyclic), "[object Object]");
});

test("datetime-local round trip and JSON input", () => {
  const iso = "2026-12-01T10:30:00.000Z";
  assert.equal(localInputToIso(isoToLocalInput(iso)), iso);
  assert.equal(localInputToIso(""), null);
  assert.equal(localInputToIso("garbage"), null);
  assert.equal(isoToLocalInput(null), "");
  assert.deepEqual(parseJsonInput('{"a":1}'), { ok: true, value: { a: 1 } });
  assert.deepEqual(parseJsonInput("  "), { ok: true, value: {} });
  const bad = parseJsonInput("{a:1}");
  assert.equal(bad.ok, false);
  assert.match((bad as { message: string }).message, /^not valid JSON/);
});

test("URL state: parse and format round trip in a fixed order", () => {
  const s = parseState("?task=email&view=jobs&state=failed&job=12&cursor=abc&direction=prev");
  assert.equal(s.view, "jobs");
  assert.equal(s.state, "failed");
  assert.equal(s.task, "email");
  assert.equal(s.job, "12");
  assert.equal(s.direction, "prev");
  assert.equal(
    formatState(s),
    "?view=jobs&state=failed&task=email&cursor=abc&direction=prev&job=12",
  );
  assert.deepEqual(parseState(formatState(s)), s);
  assert.equal(formatState(emptyState()), "");
});

test("URL state: unknown values fall back to defaults", () => {
  const s = parseState("?view=nope&state=weird&job=1;drop&direction=sideways");
  assert.deepEqual(s, emptyState());
});

test("URL state: a filter change returns to the first page; an explicit cursor stays", () => {
  const s = parseState("?view=jobs&state=ready&cursor=xyz");
  const filtered = updateState(s, { task: "email" });
  assert.equal(filtered.cursor, "");
  assert.equal(filtered.task, "email");
  const tab = updateState(s, { state: "failed" });
  assert.equal(tab.cursor, "");
  const paged = updateState(s, { cursor: "next1", direction: "next" });
  assert.equal(paged.cursor, "next1");
  const opened = updateState(s, { job: "7" });
  assert.equal(opened.cursor, "xyz", "opening a job keeps the page");
});

test("URL state: jobs filters are dropped outside the jobs view", () => {
  const s = updateState(parseState("?view=jobs&task=email"), { view: "queues" });
  assert.equal(formatState(s), "?view=queues");
});

test("URL state: the API filter and query come from the same fields", () => {
  const s = parseState("?view=jobs&state=failed&queue=q1&payload=%7B%22a%22%3A1%7D&cursor=c9");
  assert.deepEqual(jobFilter(s), { state: "failed", queue: "q1", payload: '{"a":1}' });
  assert.equal(
    jobsQuery(s, 50),
    "state=failed&queue=q1&payload=%7B%22a%22%3A1%7D&cursor=c9&direction=next&limit=50&count=true",
  );
  assert.deepEqual(actionFilter(s), { state: "failed", queue: "q1", payload: { a: 1 } });
  assert.deepEqual(actionFilter(parseState("?view=jobs&payload=%7Bnope")), { payload: "{nope" });
  assert.equal(hasFilters(s), true);
  assert.equal(hasFilters(parseState("?view=jobs&state=failed")), false);
});

test("chart geometry: nice ceilings, samples, lines and bars", () => {
  assert.equal(niceCeiling(0), 1);
  assert.equal(niceCeiling(7), 10);
  assert.equal(niceCeiling(13), 20);
  assert.equal(niceCeiling(41), 50);
  assert.equal(niceCeiling(100), 100);
  const at = (t: number) => ({ t });
  assert.deepEqual(pushSample([at(1), at(2), at(3)], at(4), 3), [at(2), at(3), at(4)]);
  assert.deepEqual(pushSample([at(1)], at(2), 3), [at(1), at(2)]);
  assert.deepEqual(pushSample([at(0), at(1000)], at(1500), 5, 1000), [at(0), at(1500)]);
  assert.deepEqual(pushSample([at(0)], at(1000), 5, 1000), [at(0), at(1000)]);
  assert.deepEqual(pushSample([], at(5), 5, 1000), [at(5)]);
  assert.equal(linePath([], 10, 100, 50), "");
  assert.equal(linePath([5], 10, 100, 50), "M0 25H100");
  assert.equal(linePath([0, 10, 20], 10, 100, 50), "M0 50L50 0L100 0");
  assert.deepEqual(bars([0, 5, 10], 10, 100, 50, 5), [
    { x: 0, y: 50, w: 30, h: 0 },
    { x: 35, y: 25, w: 30, h: 25 },
    { x: 70, y: 0, w: 30, h: 50 },
  ]);
});
