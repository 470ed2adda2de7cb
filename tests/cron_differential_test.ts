/**
 * Differential test: crontab lines parsed by graphile-worker 0.18.0's
 * `parseCrontab` and by Spool's give the same items.
 */
import assert from "node:assert/strict";
import { parseCrontab as gwParseCrontab } from "graphile-worker";
import { test } from "./_harness.ts";
import { parseCrontab } from "../src/cron/mod.ts";

const LINES = [
  "* * * * * every_minute",
  "*/5 * * * * every_five",
  "*/7 * * * * every_seven ?id=seven",
  "0 * * * * hourly",
  "15,45 * * * * quarter_past_and_to",
  "0-10 * * * * first_eleven",
  "0-10,20-25,50 */3 * * * mixed_lists",
  "30 8 * * * daily_830 ?fill=1h",
  "0 0 * * 0 sunday_midnight ?fill=1d2h30m",
  "0 0 * * 7 sunday_as_seven",
  "0 12 * * 1-5 weekdays_noon ?max=3",
  "0 12 * * 5-7 fri_to_sun",
  "0 9 1 * * first_of_month ?queue=monthly",
  "0 9 1,15 * 1 first_fifteenth_or_monday",
  "0 9 1-31 * 3 all_dates_wednesday",
  "0 9 */2 * 2 odd_days_or_tuesday",
  "0 0 28-31 2 * end_of_february",
  "0 0 1 1,3,12 * some_months ?priority=-10",
  "*/10 6-18 * * 1,3,5 work_hours ?priority=5&max=10&queue=work:hours",
  "0 */4 * * * every_four_hours ?jobKey=four&jobKeyMode=preserve_run_at",
  "5 4 * * * with_key ?jobKey=k%201+x",
  "* * * * * nested/task:name ?id=nested-one",
  '* * * * * payload_task {"a": 1, "b": [true, null, "x"]}',
  "0 3 * * * json5_task ?fill=4w {a: 'single', b: 0x1F, c: .5, d: +1, e: [1,], /* c */ 'f g': \"h\",}",
  '0 3 * * * options_and_payload ?id=opts_payload&fill=30m&max=2 {"nested": {"deep": [1, 2]}}',
  "*/100 * * * * step_larger_than_range",
  "59 23 31 12 * new_years_eve",
];

const BAD_LINES = [
  "60 * * * * t",
  "* 24 * * * t",
  "* * 0 * * t",
  "* * * 13 * t",
  "* * * * 8 t",
  "5-5 * * * * t",
  "10-5 * * * * t",
  "*/0 * * * * t",
  "* * * * MON t",
  "* * * * * 9t",
  "* * * * * t ?nope=1",
  "* * * * * t ?fill=1y",
  "* * * * * t ?max=1&max=2",
  "* * * * * t ?queue=a%20b",
  "* * * * * t ?jobKeyMode=nope&jobKey=x",
  "* * * * * t [1]",
  "* * * * *",
  "* * * * * t {a:}",
  "* * * * * t?fill=1h",
  "* * * * * t # trailing comment",
];

function digest(ts: number) {
  const d = new Date(ts);
  return {
    min: d.getUTCMinutes(),
    hour: d.getUTCHours(),
    date: d.getUTCDate(),
    month: d.getUTCMonth() + 1,
    dow: d.getUTCDay(),
  };
}

test("cron differential: same items as graphile-worker's parseCrontab", () => {
  const text = `# differential crontab\n\n${LINES.join("\n")}\n`;
  const theirs = gwParseCrontab(text);
  const ours = parseCrontab(text);
  assert.ok(LINES.length >= 20);
  assert.equal(ours.length, theirs.length);
  assert.equal(ours.length, LINES.length);
  // Windows: a month end with a leap-less February, a year end, and a normal week.
  const windows = ["2026-02-26T00:00:00Z", "2026-12-30T00:00:00Z", "2026-06-07T00:00:00Z"];
  let compared = 0;
  let fired = 0;
  for (let i = 0; i < ours.length; i++) {
    const g = theirs[i];
    const s = ours[i];
    const where = `line ${JSON.stringify(LINES[i])}`;
    assert.equal(s.identifier, g.identifier, where);
    assert.equal(s.task, g.task, where);
    assert.equal(s.fill, g.options.backfillPeriod, where);
    const strip = (o: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    const { backfillPeriod: _fill, ...gOptions } = g.options;
    assert.deepEqual(strip({ ...s.options }), strip(gOptions), where);
    assert.deepEqual(s.payload, g.payload, where);
    const gSets = (g.match as unknown as { parsedCronMatch: Record<string, number[]> })
      .parsedCronMatch;
    assert.deepEqual(
      {
        minutes: s.schedule.fields.minutes,
        hours: s.schedule.fields.hours,
        dates: s.schedule.fields.dates,
        months: s.schedule.fields.months,
        dows: s.schedule.fields.dows,
      },
      gSets,
      where,
    );
    for (const start of windows) {
      const from = Date.parse(start);
      for (let m = 0; m < 4 * 1440; m++) {
        const ts = from + m * 60_000;
        const expected = g.match(digest(ts));
        assert.equal(s.schedule.matches(ts), expected, `${where} at ${new Date(ts).toISOString()}`);
        compared++;
        if (expected) fired++;
      }
    }
  }
  assert.equal(compared, LINES.length * 3 * 4 * 1440);
  assert.ok(fired > 10_000, `only ${fired} matching minutes compared`);
});

test("cron differential: lines graphile-worker rejects are rejected", () => {
  for (const line of BAD_LINES) {
    assert.throws(() => gwParseCrontab(line), Error, `graphile-worker accepted ${line}`);
    assert.throws(() => parseCrontab(line), Error, `Spool accepted ${line}`);
  }
  // Spool's one extension: a stepped range.
  assert.throws(() => gwParseCrontab("0-30/10 * * * * t"));
  assert.deepEqual(parseCrontab("0-30/10 * * * * t")[0].schedule.fields.minutes, [0, 10, 20, 30]);
  // and the Rust option spellings
  assert.throws(() => gwParseCrontab("* * * * * t ?job_key=x"));
  assert.equal(parseCrontab("* * * * * t ?job_key=x")[0].options.jobKey, "x");
});
