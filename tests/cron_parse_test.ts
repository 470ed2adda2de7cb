import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import {
  cron,
  CrontabParseError,
  parseCrontab,
  parseDuration,
  resolveCronItems,
} from "../src/cron/mod.ts";
import { ValidationError } from "../src/errors.ts";
import type { CronItem } from "../src/cron/types.ts";

const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);

/** Matching minutes of `item` in [from, from + minutes). */
function fires(item: CronItem, fromIso: string, minutes: number): string[] {
  const out: string[] = [];
  const from = at(fromIso);
  for (let i = 0; i < minutes; i++) {
    const ts = from + i * MIN;
    if (item.schedule.matches(ts)) out.push(new Date(ts).toISOString().slice(0, 16));
  }
  return out;
}

function one(line: string): CronItem {
  const items = parseCrontab(line);
  assert.equal(items.length, 1);
  return items[0];
}

function parseError(text: string): CrontabParseError {
  try {
    parseCrontab(text);
  } catch (e) {
    assert.ok(e instanceof CrontabParseError, `expected CrontabParseError, got ${e}`);
    assert.ok(e instanceof ValidationError);
    return e;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

test("cron: steps, ranges and lists match at minute boundaries", () => {
  assert.deepEqual(fires(one("*/20 * * * * t"), "2026-01-05T10:00:00Z", 60), [
    "2026-01-05T10:00",
    "2026-01-05T10:20",
    "2026-01-05T10:40",
  ]);
  assert.deepEqual(fires(one("5-7,30 * * * * t"), "2026-01-05T10:00:00Z", 60), [
    "2026-01-05T10:05",
    "2026-01-05T10:06",
    "2026-01-05T10:07",
    "2026-01-05T10:30",
  ]);
  // stepped range (a Spool extension): minutes 10, 25, 40 of hours 8 and 9
  assert.deepEqual(fires(one("10-50/15 8-9 * * * t"), "2026-01-05T07:00:00Z", 240), [
    "2026-01-05T08:10",
    "2026-01-05T08:25",
    "2026-01-05T08:40",
    "2026-01-05T09:10",
    "2026-01-05T09:25",
    "2026-01-05T09:40",
  ]);
  // never between minute boundaries
  const every = one("* * * * * t");
  assert.equal(every.schedule.matches(at("2026-01-05T10:00:00Z")), true);
  assert.equal(fires(every, "2026-01-05T10:00:00Z", 1440).length, 1440);
});

test("cron: day of month and day of week combine with OR only when both are restricted", () => {
  // 2026-03-01 is a Sunday. Days 1 and 15, or Mondays.
  const both = one("0 12 1,15 * 1 t");
  const days = fires(both, "2026-03-01T00:00:00Z", 31 * 1440).map((s) => s.slice(8, 10));
  assert.deepEqual(days, ["01", "02", "09", "15", "16", "23", "30"]);
  // only day of week restricted: Mondays only
  const dow = fires(one("0 12 * * 1 t"), "2026-03-01T00:00:00Z", 31 * 1440).map((s) =>
    s.slice(8, 10)
  );
  assert.deepEqual(dow, ["02", "09", "16", "23", "30"]);
  // 1-31 counts as unrestricted (graphile-worker decides on the values): Mondays only
  assert.deepEqual(
    fires(one("0 12 1-31 * 1 t"), "2026-03-01T00:00:00Z", 31 * 1440).map((s) => s.slice(8, 10)),
    dow,
  );
  // 7 means Sunday; 5-7 = Fri, Sat, Sun
  const weekend = fires(one("0 0 * * 5-7 t"), "2026-03-02T00:00:00Z", 7 * 1440);
  assert.deepEqual(weekend, ["2026-03-06T00:00", "2026-03-07T00:00", "2026-03-08T00:00"]);
  // months
  assert.deepEqual(
    fires(one("0 0 1 2,4 * t"), "2026-01-01T00:00:00Z", 150 * 1440),
    ["2026-02-01T00:00", "2026-04-01T00:00"],
  );
});

test("cron: crontab options, both spellings, payload, comments and blank lines", () => {
  const items = parseCrontab(`
# a comment
   # an indented comment

0 8 * * 1-5 send_report ?fill=1d2h&max=3&queue=reports&priority=-5&jobKey=daily+report {to: 'ops', n: 1,}
*/5 * * * * poll ?id=poll_fast&job_key=p%26q&job_key_mode=preserve_run_at
* * * * * nested/task:name {"a": [1, 2, {"b": null}]}
`);
  assert.equal(items.length, 3);
  const [a, b, c] = items;
  assert.equal(a.identifier, "send_report");
  assert.equal(a.task, "send_report");
  assert.equal(a.fill, (26 * 60) * MIN);
  assert.deepEqual(a.options, {
    maxAttempts: 3,
    queueName: "reports",
    priority: -5,
    jobKey: "daily report",
    jobKeyMode: "replace",
  });
  assert.deepEqual(a.payload, { to: "ops", n: 1 });
  assert.equal(b.identifier, "poll_fast");
  assert.equal(b.task, "poll");
  assert.deepEqual(b.options, { jobKey: "p&q", jobKeyMode: "preserve_run_at" });
  assert.equal(b.payload, null);
  assert.equal(b.fill, 0);
  assert.equal(c.task, "nested/task:name");
  assert.deepEqual(c.payload, { a: [1, 2, { b: null }] });
  assert.equal(c.source, "crontab line 7");
});

test("cron: parse errors name line, column and what was expected", () => {
  let e = parseError("* * * * * ok\n\n  61 * * * * task");
  assert.equal(e.line, 3);
  assert.equal(e.column, 3);
  assert.match(e.expected, /minute from 0 to 59/);
  assert.match(e.message, /^Invalid crontab: line 3, column 3: expected .*found "61"/);

  e = parseError("0 8 * * 1,2,9 task");
  assert.deepEqual([e.line, e.column], [1, 13]);
  assert.match(e.expected, /day of week from 0 to 7/);

  e = parseError("0 25-26 * * * task");
  assert.deepEqual([e.line, e.column], [1, 3]);

  e = parseError("0 10-5 * * * task");
  assert.deepEqual([e.line, e.column], [1, 3]);
  assert.match(e.expected, /range whose end is larger/);

  e = parseError("*/0 * * * * task");
  assert.deepEqual([e.line, e.column], [1, 3]);
  assert.match(e.expected, /step of at least 1/);

  e = parseError("0 8 * * MON task");
  assert.deepEqual([e.line, e.column], [1, 9]);

  e = parseError("# only\n0 8 * *");
  assert.deepEqual([e.line, e.column], [2, 8]);
  assert.match(e.expected, /5 time fields/);

  e = parseError("0 8 * * * 9task");
  assert.deepEqual([e.line, e.column], [1, 11]);
  assert.match(e.expected, /task identifier/);

  e = parseError("0 8 * * * task?fill=1h");
  assert.deepEqual([e.line, e.column], [1, 15]);

  e = parseError("0 8 * * * task ?fill=1x");
  assert.deepEqual([e.line, e.column], [1, 22]);
  assert.match(e.expected, /fill=a duration/);

  e = parseError("0 8 * * * task ?max=1&max=2");
  assert.deepEqual([e.line, e.column], [1, 23]);
  assert.match(e.expected, /at most once/);

  e = parseError("0 8 * * * task ?jobKey=a&job_key=b");
  assert.deepEqual([e.line, e.column], [1, 26]);

  e = parseError("0 8 * * * task ?priority=99999");
  assert.match(e.expected, /-32768 to 32767/);

  e = parseError("0 8 * * * task {a: }");
  assert.deepEqual([e.line, e.column], [1, 20]);
  assert.match(e.expected, /JSON5 value/);

  e = parseError("0 8 * * * task [1]");
  assert.deepEqual([e.line, e.column], [1, 16]);

  e = parseError("0 8 * * * task {} trailing");
  assert.deepEqual([e.line, e.column], [1, 19]);

  e = parseError("0 8 * * * task\n0 9 * * * task");
  assert.deepEqual([e.line, e.column], [2, 11]);
  assert.match(e.expected, /unique identifier \(line 1/);
});

test("cron: an unknown option is an error, never dropped", () => {
  const e = parseError("0 8 * * * task ?fill=1h&jobkey=x");
  assert.deepEqual([e.line, e.column], [1, 25]);
  assert.equal(e.found, '"jobkey"');
  assert.match(e.message, /expected an option: id, fill, max, queue, jobKey \(job_key\)/);
  assert.throws(() => parseCrontab("* * * * * t ?backfill=1h"), CrontabParseError);
  assert.throws(() => parseCrontab("* * * * * t ?__proto__=1"), CrontabParseError);
});

test("cron: durations", () => {
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("30m"), 1_800_000);
  assert.equal(parseDuration("1d 2h"), 93_600_000);
  assert.equal(parseDuration("1d2h"), 93_600_000);
  assert.equal(parseDuration("1w"), 604_800_000);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration(1234), 1234);
  for (const bad of ["", "1", "h", "1y", "1h x", -1, 1.5]) {
    assert.throws(() => parseDuration(bad as string), ValidationError, String(bad));
  }
});

test("cron: typed schedules and their validation", () => {
  const check = (b: { toItem(): CronItem }, from: string, minutes: number) =>
    fires(b.toItem(), from, minutes);
  assert.equal(check(cron.everyMinute("t"), "2026-01-05T00:00:00Z", 10).length, 10);
  assert.deepEqual(check(cron.everyNMinutes("t", 25), "2026-01-05T00:00:00Z", 60), [
    "2026-01-05T00:00",
    "2026-01-05T00:25",
    "2026-01-05T00:50",
  ]);
  assert.deepEqual(check(cron.hourlyAt("t", 7), "2026-01-05T00:00:00Z", 120), [
    "2026-01-05T00:07",
    "2026-01-05T01:07",
  ]);
  assert.deepEqual(check(cron.dailyAt("t", 23, 59), "2026-01-05T00:00:00Z", 2880), [
    "2026-01-05T23:59",
    "2026-01-06T23:59",
  ]);
  // 2026-01-05 is a Monday
  assert.deepEqual(check(cron.weeklyOn("t", "wed", 9, 30), "2026-01-05T00:00:00Z", 14 * 1440), [
    "2026-01-07T09:30",
    "2026-01-14T09:30",
  ]);
  assert.deepEqual(check(cron.weeklyOn("t", 7, 0, 0), "2026-01-05T00:00:00Z", 7 * 1440), [
    "2026-01-11T00:00",
  ]);
  assert.deepEqual(check(cron.expression("t", " 0  */12 * * * "), "2026-01-05T00:00:00Z", 1440), [
    "2026-01-05T00:00",
    "2026-01-05T12:00",
  ]);

  const item = cron.dailyAt("report", 8, 0).fill("1h").max(5).queue("q").priority(3)
    .jobKey("k").id("report_daily").payload({ x: 1 }).toItem();
  assert.equal(item.identifier, "report_daily");
  assert.equal(item.task, "report");
  assert.equal(item.fill, 3_600_000);
  assert.deepEqual(item.options, {
    maxAttempts: 5,
    queueName: "q",
    priority: 3,
    jobKey: "k",
    jobKeyMode: "replace",
  });
  assert.deepEqual(item.payload, { x: 1 });
  // builders are immutable
  const base = cron.everyMinute("t");
  base.fill("1h");
  assert.equal(base.toItem().fill, 0);

  const invalid: Array<() => unknown> = [
    () => cron.everyNMinutes("t", 0),
    () => cron.everyNMinutes("t", 61),
    () => cron.everyNMinutes("t", 1.5),
    () => cron.hourlyAt("t", 60),
    () => cron.dailyAt("t", 24, 0),
    () => cron.dailyAt("t", -1, 0),
    () => cron.weeklyOn("t", 8, 0, 0),
    () => cron.weeklyOn("t", "funday", 0, 0),
    () => cron.expression("t", "* * * *"),
    () => cron.expression("t", "60 * * * *"),
    () => cron.everyMinute(""),
    () => cron.everyMinute("t").timezone("Mars/Olympus_Mons"),
    () => cron.everyMinute("t").fill("soon"),
    () => cron.everyMinute("t").max(0),
    () => cron.everyMinute("t").priority(40000),
    () => cron.everyMinute("t").queue(""),
    () => cron.everyMinute("t").jobKey(""),
    () => cron.everyMinute("t").jobKeyMode("whatever" as "replace"),
    () => cron.everyMinute("t").id("has space"),
    () => cron.everyMinute("t").payload([1] as unknown as Record<string, unknown>),
  ];
  for (const f of invalid) assert.throws(f, ValidationError, f.toString());
  try {
    cron.expression("t", "0 8 * * 9");
  } catch (e) {
    assert.ok(e instanceof CrontabParseError);
    assert.equal(e.column, 9);
    assert.equal(e.field, "cron.expression");
  }
});

test("cron: typed payload is checked against the task's schema", async () => {
  const { z } = await import("zod");
  const task = {
    kind: "task" as const,
    identifier: "send_email",
    payload: z.object({ to: z.string() }),
    run: () => {},
  };
  const item = cron.dailyAt(task, 8, 0).payload({ to: "a@example.com" }).toItem();
  assert.equal(item.task, "send_email");
  assert.deepEqual(item.payload, { to: "a@example.com" });
  assert.throws(
    () => cron.dailyAt(task, 8, 0).payload({ to: 42 } as unknown as { to: string }),
    (e: unknown) =>
      e instanceof ValidationError && e.code === "INVALID_PAYLOAD" && /to:/.test(e.message),
  );
});

test("cron: resolveCronItems merges both sources and rejects duplicates", () => {
  const items = resolveCronItems({
    crontab: "0 8 * * * a\n0 9 * * * b ?id=b2",
    cron: [cron.everyMinute("c"), "*/2 * * * * d"],
  });
  assert.deepEqual(items.map((i) => i.identifier), ["a", "b2", "c", "d"]);
  assert.deepEqual(items.map((i) => i.source), [
    "crontab line 1",
    "crontab line 2",
    "cron[0]",
    "cron[1] line 1",
  ]);
  assert.throws(
    () => resolveCronItems({ crontab: "0 8 * * * a", cron: [cron.everyMinute("a")] }),
    (e: unknown) => e instanceof ValidationError && /duplicate cron identifier "a"/.test(e.message),
  );
  assert.doesNotThrow(() =>
    resolveCronItems({ crontab: "0 8 * * * a", cron: [cron.everyMinute("a").id("a_min")] })
  );
  assert.throws(
    () => resolveCronItems({ crontab: "0 8 * * * a\n0 8 * * * b" }, ["a"]),
    (e: unknown) =>
      e instanceof ValidationError && /"b" is not a task of this worker/.test(e.message),
  );
  assert.equal(resolveCronItems({}).length, 0);
});
