import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";
import { migrate } from "../src/migrate/migrate.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";
import { createCronScheduler, cron, parseCrontab } from "../src/cron/mod.ts";
import type { CronItem } from "../src/cron/types.ts";
import type { CronSchedulerOptions } from "../src/cron/scheduler.ts";

const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);
const schema = uniqueSchema("cron_sched");
const driver = postgresJs(databaseUrl(), { max: 12 });
let ready: Promise<unknown> | undefined;
const setup = () => (ready ??= migrate(driver, { schema }));

interface JobRow {
  task: string;
  payload: { _cron: { ts: string; backfilled: boolean }; [k: string]: unknown };
  run_at: Date;
  queue_name: string | null;
  priority: number;
  max_attempts: number;
  key: string | null;
}

async function jobsOf(task: string): Promise<JobRow[]> {
  const { rows } = await driver.query<JobRow>(
    `select t.identifier as task, j.payload, j.run_at, q.queue_name, j.priority, j.max_attempts, j.key
     from "${schema}"._private_jobs j
     join "${schema}"._private_tasks t on t.id = j.task_id
     left join "${schema}"._private_job_queues q on q.id = j.job_queue_id
     where t.identifier = $1
     order by j.run_at, j.id`,
    [task],
  );
  return rows;
}

const tsList = (rows: JobRow[]) => rows.map((r) => r.payload._cron.ts);
const minutesFrom = (fromIso: string, count: number, step = 1) =>
  Array.from({ length: count }, (_, i) => new Date(at(fromIso) + i * step * MIN).toISOString());

function scheduler(items: CronItem[], clock: FakeClock, extra: Partial<CronSchedulerOptions> = {}) {
  return createCronScheduler({ driver, schema, items, clock, ...extra });
}

test("cron scheduler: three instances on one database add one job per tick", async () => {
  await setup();
  const items = () => parseCrontab("* * * * * multi_a\n*/2 * * * * multi_b ?id=multi_b_even");
  const clock = new FakeClock(at("2030-01-01T00:00:30Z"));
  // three separate pools, as three worker processes would have
  const drivers = [0, 1, 2].map(() => postgresJs(databaseUrl(), { max: 2 }));
  const schedulers = drivers.map((d) => scheduler(items(), clock, { driver: d }));
  const added: number[] = [];
  for (let m = 0; m <= 6; m++) {
    const now = m === 0 ? at("2030-01-01T00:00:30Z") : at("2030-01-01T00:00:00Z") + m * MIN + 5;
    const counts = await Promise.all(schedulers.map((s) => s.tick(now)));
    added.push(counts.reduce((a, b) => a + b, 0));
  }
  const a = await jobsOf("multi_a");
  const b = await jobsOf("multi_b");
  assert.deepEqual(tsList(a), minutesFrom("2030-01-01T00:01:00Z", 6));
  assert.deepEqual(tsList(b), minutesFrom("2030-01-01T00:02:00Z", 3, 2));
  assert.deepEqual(added, [0, 1, 2, 1, 2, 1, 2]);
  await Promise.all(drivers.map((d) => d.close()));
  assert.ok(a.every((r) => r.payload._cron.backfilled === false));
  const { rows } = await driver.query<{ identifier: string; last_execution: Date }>(
    `select identifier, last_execution from "${schema}"._private_known_crontabs
     where identifier in ('multi_a', 'multi_b_even') order by identifier`,
  );
  assert.deepEqual(rows.map((r) => [r.identifier, r.last_execution.toISOString()]), [
    ["multi_a", "2030-01-01T00:06:00.000Z"],
    ["multi_b_even", "2030-01-01T00:06:00.000Z"],
  ]);
});

test("cron scheduler: timers of three started instances fire once per minute", async () => {
  await setup();
  const clock = new FakeClock(at("2030-02-01T00:00:10Z"));
  const schedulers = [0, 1, 2].map(() => scheduler(parseCrontab("* * * * * timer_task"), clock));
  await Promise.all(schedulers.map((s) => s.start()));
  await Promise.all(schedulers.map((s) => s.start())); // idempotent
  for (let m = 1; m <= 4; m++) {
    await clock.tickTo(at("2030-02-01T00:00:00Z") + m * MIN + 1);
    const deadline = Date.now() + 10_000;
    while ((await jobsOf("timer_task")).length < m && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // every scheduler has re-armed its timer for the next minute
    while (clock.pendingTimers < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await Promise.all(schedulers.map((s) => s.stop()));
  await Promise.all(schedulers.map((s) => s.stop())); // idempotent
  assert.equal(clock.pendingTimers, 0);
  assert.deepEqual(tsList(await jobsOf("timer_task")), minutesFrom("2030-02-01T00:01:00Z", 4));
});

test("cron scheduler: backfill after 2 hours down with fill=1h", async () => {
  await setup();
  const text = "* * * * * bf_every ?fill=1h\n*/15 * * * * bf_quarter ?fill=1h\n* * * * * bf_none";
  const clock = new FakeClock(at("2030-03-01T10:00:30Z"));
  const first = scheduler(parseCrontab(text), clock);
  await first.tick(at("2030-03-01T10:00:30Z"));
  await first.tick(at("2030-03-01T10:01:00.500Z"));
  await first.stop();
  assert.deepEqual(tsList(await jobsOf("bf_every")), ["2030-03-01T10:01:00.000Z"]);
  // two hours later a new process starts
  const second = scheduler(parseCrontab(text), clock);
  const added = await second.tick(at("2030-03-01T12:01:30Z"));
  const every = await jobsOf("bf_every");
  assert.deepEqual(tsList(every), [
    "2030-03-01T10:01:00.000Z",
    ...minutesFrom("2030-03-01T11:02:00Z", 60),
  ]);
  assert.ok(every.slice(1).every((r) => r.payload._cron.backfilled === true));
  assert.equal(every[0].payload._cron.backfilled, false);
  assert.deepEqual(every.slice(1).map((r) => r.run_at.toISOString()), tsList(every.slice(1)));
  const quarter = await jobsOf("bf_quarter");
  assert.deepEqual(tsList(quarter), minutesFrom("2030-03-01T11:15:00Z", 4, 15));
  assert.equal((await jobsOf("bf_none")).length, 1);
  assert.equal(added, 64);
  // the next minute runs normally
  await second.tick(at("2030-03-01T12:02:00.100Z"));
  const last = (await jobsOf("bf_every")).at(-1)!;
  assert.deepEqual(last.payload._cron, { ts: "2030-03-01T12:02:00.000Z", backfilled: false });
});

test("cron scheduler: no backfill for a new identifier; known-but-never-run fills from known_since", async () => {
  await setup();
  await driver.query(
    `insert into "${schema}"._private_known_crontabs (identifier, known_since) values ('nb_known', $1)`,
    [new Date("2030-04-01T11:30:00Z")],
  );
  const clock = new FakeClock(at("2030-04-01T12:00:30Z"));
  const s = scheduler(
    parseCrontab("* * * * * nb_fresh ?fill=1d\n* * * * * nb_known ?fill=1d"),
    clock,
  );
  await s.runOnce();
  assert.equal((await jobsOf("nb_fresh")).length, 0);
  assert.deepEqual(tsList(await jobsOf("nb_known")), minutesFrom("2030-04-01T11:30:00Z", 31));
  const { rows } = await driver.query<{ known_since: Date; last_execution: Date | null }>(
    `select known_since, last_execution from "${schema}"._private_known_crontabs where identifier = 'nb_fresh'`,
  );
  assert.equal(rows[0].known_since.toISOString(), "2030-04-01T12:00:30.000Z");
  assert.equal(rows[0].last_execution, null);
  await s.tick(at("2030-04-01T12:01:00.200Z"));
  assert.deepEqual(tsList(await jobsOf("nb_fresh")), ["2030-04-01T12:01:00.000Z"]);
});

test("cron scheduler: late ticks catch up without gaps; clock jumps fill only within fill", async () => {
  await setup();
  const items = () =>
    parseCrontab("* * * * * jump_fill ?fill=1h\n* * * * * jump_nofill\n*/30 * * * * jump_half");
  const clock = new FakeClock(at("2030-05-01T10:00:30Z"));
  const s = scheduler(items(), clock);
  await s.tick(at("2030-05-01T10:00:30Z"));
  await s.tick(at("2030-05-01T10:01:00.100Z"));
  // a late tick: two minutes handled at once, both on time (no gap)
  await s.tick(at("2030-05-01T10:03:20Z"));
  assert.deepEqual(tsList(await jobsOf("jump_nofill")), minutesFrom("2030-05-01T10:01:00Z", 3));
  assert.ok((await jobsOf("jump_nofill")).every((r) => !r.payload._cron.backfilled));
  // the clock jumps forwards almost 3 hours
  await s.tick(at("2030-05-01T13:00:10Z"));
  const nofill = await jobsOf("jump_nofill");
  assert.deepEqual(tsList(nofill).slice(3), minutesFrom("2030-05-01T12:56:00Z", 5));
  const fill = await jobsOf("jump_fill");
  const afterJump = fill.filter((r) => r.payload._cron.ts > "2030-05-01T11");
  assert.deepEqual(tsList(afterJump), minutesFrom("2030-05-01T12:01:00Z", 60));
  assert.deepEqual(
    afterJump.map((r) => r.payload._cron.backfilled),
    [...Array(55).fill(true), ...Array(5).fill(false)],
  );
  // no fill: 12:30 is older than the late tolerance, so it is not run
  assert.deepEqual(tsList(await jobsOf("jump_half")), ["2030-05-01T13:00:00.000Z"]);
  // the clock jumps backwards: nothing is repeated
  const before = (await jobsOf("jump_fill")).length;
  assert.equal(await s.tick(at("2030-05-01T12:30:10Z")), 0);
  assert.equal(await s.tick(at("2030-05-01T13:00:50Z")), 0);
  // a second scheduler whose clock is behind cannot add minutes already run
  const skewed = scheduler(items(), new FakeClock(at("2030-05-01T12:58:00Z")));
  assert.equal(await skewed.tick(at("2030-05-01T12:58:00Z")), 0);
  assert.equal(await skewed.tick(at("2030-05-01T12:59:00.100Z")), 0);
  assert.equal((await jobsOf("jump_fill")).length, before);
  // time moves on normally
  assert.equal(await s.tick(at("2030-05-01T13:01:00.100Z")), 2);
  const all = tsList(await jobsOf("jump_fill"));
  assert.equal(new Set(all).size, all.length);
});

test("cron scheduler: jobs carry the item's payload, queue, priority, key, key mode and max attempts", async () => {
  await setup();
  const items = [
    ...parseCrontab(
      "* * * * * opt_text ?queue=cron_q&priority=-3&max=4&jobKey=opt_key&jobKeyMode=preserve_run_at {kind: 'text'}",
    ),
    cron.everyMinute("opt_typed").queue("typed_q").priority(7).max(2).payload({ kind: "typed" })
      .toItem(),
  ];
  const s = scheduler(items, new FakeClock(at("2030-06-01T00:00:30Z")));
  await s.tick(at("2030-06-01T00:00:30Z"));
  await s.tick(at("2030-06-01T00:01:00.100Z"));
  const [text] = await jobsOf("opt_text");
  assert.deepEqual(text.payload, {
    kind: "text",
    _cron: { ts: "2030-06-01T00:01:00.000Z", backfilled: false },
  });
  assert.equal(text.run_at.toISOString(), "2030-06-01T00:01:00.000Z");
  assert.deepEqual(
    [text.queue_name, text.priority, text.max_attempts, text.key],
    ["cron_q", -3, 4, "opt_key"],
  );
  const [typed] = await jobsOf("opt_typed");
  assert.deepEqual(typed.payload, {
    kind: "typed",
    _cron: { ts: "2030-06-01T00:01:00.000Z", backfilled: false },
  });
  assert.deepEqual([typed.queue_name, typed.priority, typed.max_attempts, typed.key], [
    "typed_q",
    7,
    2,
    null,
  ]);
  // preserve_run_at with the same key: a second minute keeps one job, with the first run_at
  await s.tick(at("2030-06-01T00:02:00.100Z"));
  const again = await jobsOf("opt_text");
  assert.equal(again.length, 1);
  assert.equal(again[0].run_at.toISOString(), "2030-06-01T00:01:00.000Z");
  assert.equal(again[0].payload._cron.ts, "2030-06-01T00:02:00.000Z");
});

test("cron scheduler: a custom addJobs runs in the claiming transaction", async () => {
  await setup();
  let fail = true;
  const calls: string[] = [];
  const s = scheduler(parseCrontab("* * * * * custom_add {n: 1}"), new FakeClock(0), {
    addJobs: async (jobs, tx) => {
      calls.push(jobs.map((j) => `${j.identifier}@${j.options?.runAt?.toISOString()}`).join());
      for (const j of jobs) {
        await tx.query(`select "${schema}".add_job($1, $2::text::json, run_at => $3)`, [
          j.identifier,
          JSON.stringify(j.payload),
          j.options?.runAt ?? null,
        ]);
      }
      if (fail) throw new Error("boom");
    },
  });
  await s.tick(at("2030-07-01T00:00:30Z"));
  await assert.rejects(s.tick(at("2030-07-01T00:01:00.100Z")), /boom/);
  assert.equal((await jobsOf("custom_add")).length, 0); // rolled back, claim included
  fail = false;
  assert.equal(await s.tick(at("2030-07-01T00:01:05Z")), 1);
  const rows = await jobsOf("custom_add");
  assert.deepEqual(rows.map((r) => r.payload), [
    { n: 1, _cron: { ts: "2030-07-01T00:01:00.000Z", backfilled: false } },
  ]);
  assert.deepEqual(calls, [
    "custom_add@2030-07-01T00:01:00.000Z",
    "custom_add@2030-07-01T00:01:00.000Z",
  ]);
});

test("cron scheduler: Europe/Paris across both DST changes", async () => {
  await setup();
  const items = [
    cron.dailyAt("dst_fixed", 2, 30).timezone("Europe/Paris").toItem(),
    cron.expression("dst_interval", "*/30 2 * * *").timezone("Europe/Paris").toItem(),
  ];
  for (
    const [day, startIso] of [["spring", "2030-03-30T22:00:30Z"], ["fall", "2030-10-26T22:00:30Z"]]
  ) {
    const s = scheduler(items, new FakeClock(at(startIso)));
    await s.tick(at(startIso));
    for (let m = 1; m <= 6 * 60; m++) await s.tick(at(startIso) + m * MIN - 29_000);
    void day;
  }
  // Spring (2030-03-31, 02:00 -> 03:00 CEST): 02:30 does not exist. The fixed-time job runs once
  // at the first minute after the gap (03:00 CEST = 01:00Z); the interval job has no 02:xx minutes.
  // Fall (2030-10-27, 03:00 CEST -> 02:00 CET): 02:30 happens twice. The fixed-time job runs once
  // (first occurrence, 00:30Z); the interval job runs on both occurrences of 02:00 and 02:30.
  assert.deepEqual(tsList(await jobsOf("dst_fixed")), [
    "2030-03-31T01:00:00.000Z",
    "2030-10-27T00:30:00.000Z",
  ]);
  assert.deepEqual(tsList(await jobsOf("dst_interval")), [
    "2030-10-27T00:00:00.000Z",
    "2030-10-27T00:30:00.000Z",
    "2030-10-27T01:00:00.000Z",
    "2030-10-27T01:30:00.000Z",
  ]);
});

test("cron scheduler: cleanup", async () => {
  await driver.close();
  await dropSchema(schema);
});
