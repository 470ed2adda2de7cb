/**
 * Crontab text time zones: `?tz=Europe/Paris` gives a text line what
 * `.timezone()` gives a typed schedule, across DST changes (pure schedule
 * functions, and the scheduler on a FakeClock against PostgreSQL), and zone
 * text that could be misread is refused.
 */
import assert from "node:assert/strict";
import { parseCrontab as gwParseCrontab } from "graphile-worker";
import { test } from "./_harness.ts";
import { fires, MIN } from "./fixtures/cron_helpers.ts";
import { databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";
import { migrate } from "../src/migrate/migrate.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";
import { createCronScheduler, cron, CrontabParseError, parseCrontab } from "../src/cron/mod.ts";
import type { CronItem } from "../src/cron/types.ts";

const line = (text: string): CronItem => parseCrontab(text)[0];

function parseError(text: string): CrontabParseError {
  try {
    parseCrontab(text);
  } catch (e) {
    assert.ok(e instanceof CrontabParseError, `expected CrontabParseError, got ${e}`);
    return e;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

test("crontab ?tz=: local wall-clock times in winter and summer", () => {
  const item = line("0 8 * * * report ?tz=Europe/Paris&fill=1h {to:'ops'}");
  assert.equal(item.schedule.timezone, "Europe/Paris");
  assert.equal(item.fill, 3_600_000);
  assert.deepEqual(item.payload, { to: "ops" });
  assert.deepEqual(fires(item, "2026-01-10T00:00:00Z", 24), ["2026-01-10T07:00"]);
  assert.deepEqual(fires(item, "2026-07-10T00:00:00Z", 24), ["2026-07-10T06:00"]);
  // Without ?tz= the same fields are UTC.
  assert.deepEqual(fires(line("0 8 * * * report"), "2026-07-10T00:00:00Z", 24), [
    "2026-07-10T08:00",
  ]);
  assert.equal(line("0 8 * * * report ?tz=UTC").schedule.timezone, null);
});

test("crontab ?tz=: Europe/Paris spring forward and fall back", () => {
  const fixed = line("30 2 * * * t ?tz=Europe/Paris");
  const interval = line("*/30 2 * * * t ?tz=Europe%2FParis");
  // 2026-03-29 02:00 -> 03:00: 02:30 does not exist; the fixed time runs once after the gap.
  assert.deepEqual(fires(fixed, "2026-03-28T22:00:00Z", 24), ["2026-03-29T01:00"]);
  assert.deepEqual(fires(interval, "2026-03-28T22:00:00Z", 24), []);
  // 2026-10-25 03:00 -> 02:00: 02:30 happens twice; the fixed time runs once, intervals twice.
  assert.deepEqual(fires(fixed, "2026-10-24T22:00:00Z", 25), ["2026-10-25T00:30"]);
  assert.deepEqual(fires(interval, "2026-10-24T22:00:00Z", 25), [
    "2026-10-25T00:00",
    "2026-10-25T00:30",
    "2026-10-25T01:00",
    "2026-10-25T01:30",
  ]);
});

test("crontab ?tz= matches the typed .timezone() schedule minute for minute", () => {
  const cases: [string, string, string][] = [
    ["America/New_York", "0 2 * * *", "2026-03-07T00:00:00Z"], // spring forward 2026-03-08
    ["America/New_York", "30 1 * * *", "2026-10-31T00:00:00Z"], // fall back 2026-11-01
    ["Australia/Sydney", "15 2 * * 0", "2026-04-03T00:00:00Z"], // fall back 2026-04-05
    ["Europe/Paris", "*/20 1-3 * * *", "2026-03-28T00:00:00Z"],
  ];
  for (const [zone, expr, from] of cases) {
    const text = line(`${expr} t ?tz=${zone}`);
    const typed = cron.expression("t", expr).timezone(zone).toItem();
    assert.deepEqual(fires(text, from, 72), fires(typed, from, 72), `${zone} ${expr}`);
    assert.ok(fires(text, from, 72).length > 0, `${zone} ${expr} fires`);
  }
});

test("crontab ?tz=: text that could be misread is refused with line and column", () => {
  const plus = parseError("0 8 * * * t ?tz=Etc/GMT+1");
  assert.deepEqual([plus.line, plus.column], [1, 17]);
  assert.match(plus.message, /raw \+ .*%2B.*UTC-01:00/);
  // %2B is the unambiguous spelling: Etc/GMT+1 is UTC-01:00, so 08:00 there is 09:00 UTC.
  assert.deepEqual(fires(line("0 8 * * * t ?tz=Etc/GMT%2B1"), "2026-01-10T00:00:00Z", 24), [
    "2026-01-10T09:00",
  ]);
  for (const zone of ["EST", "CET", "PST8PDT", "GMT"]) {
    const e = parseError(`0 8 * * * t ?tz=${zone}`);
    assert.match(e.message, /expected tz=an IANA zone name with an area/, zone);
    assert.equal(e.found, JSON.stringify(zone));
  }
  assert.match(parseError("0 8 * * * t ?tz=Mars/Olympus_Mons").message, /a time zone this runtime/);
  assert.match(parseError("0 8 * * * t ?tz=").message, /expected tz=an IANA zone/);
  assert.match(parseError("0 8 * * * t ?tz").message, /expected tz=an IANA zone/);
  const twice = parseError("# comment\n0 8 * * * t ?tz=Europe/Paris&tz=UTC");
  assert.deepEqual([twice.line, twice.column], [2, 30]);
  assert.match(twice.message, /each option at most once/);
  assert.match(parseError("0 8 * * * t ?zone=Europe/Paris").message, /priority or tz/);
});

test("crontab ?tz=: graphile-worker 0.18 rejects the line instead of running it in UTC", () => {
  assert.throws(() => gwParseCrontab("0 8 * * * t ?tz=Europe/Paris"), /unsupported key 'tz'/);
});

test("crontab ?tz=: the scheduler on a FakeClock across both DST changes", async () => {
  const schema = uniqueSchema("cron_tz_text");
  const driver = postgresJs(databaseUrl(), { max: 3 });
  try {
    await migrate(driver, { schema });
    const items = parseCrontab(
      "30 2 * * * tz_fixed ?tz=Europe/Paris\n*/30 2 * * * tz_interval ?tz=Europe/Paris",
    );
    for (const startIso of ["2030-03-30T22:00:30Z", "2030-10-26T22:00:30Z"]) {
      const start = Date.parse(startIso);
      const s = createCronScheduler({ driver, schema, items, clock: new FakeClock(start) });
      await s.tick(start);
      for (let m = 1; m <= 5 * 60; m++) await s.tick(start + m * MIN - 29_000);
    }
    const { rows } = await driver.query<{ task: string; ts: string }>(
      `select t.identifier as task, j.payload->'_cron'->>'ts' as ts
       from "${schema}"._private_jobs j join "${schema}"._private_tasks t on t.id = j.task_id
       order by t.identifier, j.run_at`,
    );
    const of = (task: string) => rows.filter((r) => r.task === task).map((r) => r.ts);
    assert.deepEqual(of("tz_fixed"), ["2030-03-31T01:00:00.000Z", "2030-10-27T00:30:00.000Z"]);
    assert.deepEqual(of("tz_interval"), [
      "2030-10-27T00:00:00.000Z",
      "2030-10-27T00:30:00.000Z",
      "2030-10-27T01:00:00.000Z",
      "2030-10-27T01:30:00.000Z",
    ]);
  } finally {
    await driver.close();
    await dropSchema(schema);
  }
});
