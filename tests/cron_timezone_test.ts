import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { fires, MIN } from "./fixtures/cron_helpers.ts";
import { cron, parseCrontab } from "../src/cron/mod.ts";
import { compileSchedule } from "../src/cron/schedule.ts";

const paris = (expr: string) => cron.expression("t", expr).timezone("Europe/Paris").toItem();

test("cron tz: local wall-clock time outside DST changes", () => {
  // Paris is UTC+1 in winter, UTC+2 in summer
  assert.deepEqual(fires(paris("0 8 * * *"), "2026-01-10T00:00:00Z", 48), [
    "2026-01-10T07:00",
    "2026-01-11T07:00",
  ]);
  assert.deepEqual(fires(paris("0 8 * * *"), "2026-07-10T00:00:00Z", 48), [
    "2026-07-10T06:00",
    "2026-07-11T06:00",
  ]);
  // local day boundaries decide day of week: Monday 00:30 in Paris is Sunday 23:30 UTC
  assert.deepEqual(fires(paris("30 0 * * 1"), "2026-01-04T00:00:00Z", 7 * 24), [
    "2026-01-04T23:30",
  ]);
  assert.equal(cron.everyMinute("t").timezone("UTC").toItem().schedule.timezone, null);
});

test("cron tz: Europe/Paris spring forward (02:00 -> 03:00 on 2026-03-29)", () => {
  const day = "2026-03-28T22:00:00Z"; // local midnight
  // fixed time inside the gap: runs once, at the first minute after the gap (03:00 CEST)
  assert.deepEqual(fires(paris("30 2 * * *"), day, 24), ["2026-03-29T01:00"]);
  // fixed time after the gap is unaffected, so 03:00 runs once too
  assert.deepEqual(fires(paris("0 3 * * *"), day, 24), ["2026-03-29T01:00"]);
  // interval schedules skip the minutes that do not exist
  assert.deepEqual(fires(paris("*/30 2 * * *"), day, 24), []);
  const hourly = fires(paris("0 * * * *"), day, 23); // local midnight to midnight
  assert.equal(hourly.length, 23); // a 23-hour local day
  assert.equal(new Set(hourly).size, hourly.length);
});

test("cron tz: Europe/Paris fall back (03:00 -> 02:00 on 2026-10-25)", () => {
  const day = "2026-10-24T22:00:00Z"; // local midnight (CEST)
  // fixed time that occurs twice: runs once, at the first occurrence (02:30 CEST = 00:30Z)
  assert.deepEqual(fires(paris("30 2 * * *"), day, 25), ["2026-10-25T00:30"]);
  // interval schedules run on both occurrences
  assert.deepEqual(fires(paris("*/30 2 * * *"), day, 25), [
    "2026-10-25T00:00",
    "2026-10-25T00:30",
    "2026-10-25T01:00",
    "2026-10-25T01:30",
  ]);
  assert.equal(fires(paris("0 * * * *"), day, 25).length, 25); // a 25-hour local day
});

test("cron tz: croner agrees with the UTC matcher on every differential expression", () => {
  const exprs = [
    "* * * * *",
    "*/7 * * * *",
    "0-10,20-25,50 */3 * * *",
    "0 9 1,15 * 1",
    "0 9 1-31 * 3",
    "0 9 */2 * 2",
    "0 12 * * 5-7",
    "0 0 28-31 2 *",
    "*/10 6-18 * * 1,3,5",
    "59 23 31 12 *",
    "10-50/15 8-9 * * 0",
  ];
  for (const expr of exprs) {
    const utc = parseCrontab(`${expr} t`)[0];
    // Etc/GMT is UTC under another name, so it goes through croner
    const viaCroner = compileSchedule(expr, utc.schedule.fields, "Etc/GMT");
    for (const start of ["2026-02-25T00:00:00Z", "2026-12-29T00:00:00Z"]) {
      const from = Date.parse(start);
      for (let ts = from; ts < from + 5 * 1440 * MIN; ts += MIN) {
        assert.equal(
          viaCroner.matches(ts),
          utc.schedule.matches(ts),
          `${expr} at ${new Date(ts).toISOString()}`,
        );
      }
    }
  }
});
