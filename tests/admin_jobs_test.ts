// deno-lint-ignore-file no-explicit-any -- JSON answers are inspected field by field
/**
 * Admin API against seeded jobs: state derivation (including a job behind a
 * locked named queue), filters, keyset paging under concurrent inserts and
 * deletes, every action on ids and on a filter, remove-by-key, maintenance,
 * and sampled counts.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { call, fails, jobsSnapshot, lockJobs, req, setupAdmin } from "./fixtures/admin_helpers.ts";

const db = await setupAdmin("admin_jobs");
const { admin } = db;
const HOUR = 3600_000;

type JobsPage = { jobs: any[]; nextCursor: string | null; prevCursor: string | null; count?: any };

async function ids(query: string): Promise<string[]> {
  const page = await call<JobsPage>(admin, req(`/api/jobs?limit=100&${query}`), 200);
  return page.jobs.map((j) => j.id).sort((a, b) => Number(a) - Number(b));
}

async function sqlSet(id: string, set: string): Promise<void> {
  await db.sql.unsafe(`update ${db.s}._private_jobs set ${set} where id = $1`, [id]);
}

async function clear(): Promise<void> {
  await db.sql.unsafe(
    `delete from ${db.s}._private_jobs; delete from ${db.s}._private_job_queues;
     delete from ${db.s}._private_workers`,
  );
}

test("admin states: one definition, each seeded state found by filter, id and counts", async () => {
  const future = new Date(Date.now() + HOUR);
  const ready = await db.addJob("st", { k: "ready" });
  const readyAgain = await db.addJob("st", { k: "ready-again" });
  await sqlSet(readyAgain, "attempts = 2, last_error = 'boom once'");
  const scheduled = await db.addJob("st", { k: "scheduled" }, { runAt: future });
  const retrying = await db.addJob("st", { k: "retrying" }, { runAt: future });
  await sqlSet(retrying, "attempts = 1, last_error = 'Boom: timeout'");
  const failed = await db.addJob("st", { k: "failed" }, { maxAttempts: 3 });
  await sqlSet(failed, "attempts = 3, last_error = 'gave up'");
  const running = await db.addJob("st", { k: "running" }, { queueName: "serial" });
  const blocked = await db.addJob("st", { k: "blocked" }, { queueName: "serial" });
  const freeQueue = await db.addJob("other", { k: "free", nested: { a: 1 } }, {
    queueName: "free",
  });
  await lockJobs(db, [running], "w1");
  await db.sql.unsafe(
    `update ${db.s}._private_job_queues set locked_at = now(), locked_by = 'w1' where queue_name = 'serial'`,
  );
  const expected: Record<string, string[]> = {
    ready: [ready, readyAgain, freeQueue],
    blocked: [blocked],
    scheduled: [scheduled],
    retrying: [retrying],
    running: [running],
    failed: [failed],
  };
  for (const [state, want] of Object.entries(expected)) {
    assert.deepEqual(await ids(`state=${state}`), want, state);
    for (const id of want) {
      assert.equal((await call(admin, req(`/api/jobs/${id}`), 200)).state, state, `job ${id}`);
    }
  }
  assert.deepEqual(await ids("state=blocked,running"), [running, blocked]);
  assert.deepEqual(await ids("state=failed&state=retrying"), [retrying, failed]);
  const overview = await call<any>(admin, req("/api/overview"), 200);
  assert.deepEqual(overview.counts, {
    total: 8,
    ready: 3,
    blocked: 1,
    scheduled: 1,
    retrying: 1,
    running: 1,
    failed: 1,
  });
  const serial = overview.queues.find((q: any) => q.name === "serial");
  assert.equal(serial.lockedBy, "w1");
  assert.equal(serial.counts.running, 1);
  assert.equal(serial.counts.blocked, 1);
  assert.equal(overview.unqueued.total, 5);
  assert.equal(overview.tasks.find((t: any) => t.identifier === "other").counts.ready, 1);
  assert.deepEqual(
    overview.unregisteredLockHolders.map((h: any) => [h.id, h.lockedJobs, h.lockedQueues]),
    [
      ["w1", 1, 1],
    ],
  );
  // Both future jobs are due within the hour: they fill the histogram.
  assert.equal(overview.schedule.buckets.reduce((a: number, b: number) => a + b, 0), 2);
  assert.equal(overview.schedule.buckets[11], 2);
  assert.ok(overview.oldestReadyAgeMs >= 0);

  // The other filters.
  assert.deepEqual(await ids("task=other"), [freeQueue]);
  assert.deepEqual(await ids("task=st&queue=serial"), [running, blocked]);
  assert.deepEqual(await ids("worker=w1"), [running]);
  assert.deepEqual(await ids(`id=${ready},${failed}&id=${blocked}`), [ready, failed, blocked]);
  assert.deepEqual(await ids(`payload=${encodeURIComponent('{"nested":{"a":1}}')}`), [freeQueue]);
  assert.deepEqual(await ids(`payload=${encodeURIComponent('{"k":"failed"}')}`), [failed]);
  assert.deepEqual(await ids("error=boom"), [readyAgain, retrying]);
  assert.deepEqual(await ids(`runAtFrom=${new Date(Date.now() + HOUR / 2).toISOString()}`), [
    scheduled,
    retrying,
  ]);
  assert.deepEqual(
    await ids(`runAtTo=${new Date(Date.now() + HOUR / 2).toISOString()}&state=ready`),
    expected.ready,
  );
  assert.deepEqual(await ids(`createdFrom=${new Date(Date.now() + HOUR).toISOString()}`), []);
  await db.sql.unsafe(`update ${db.s}._private_jobs set key = 'the-key' where id = $1`, [blocked]);
  assert.deepEqual(await ids("key=the-key"), [blocked]);
  const counted = await call<JobsPage>(admin, req("/api/jobs?task=st&count=true&limit=2"), 200);
  assert.deepEqual(counted.count, { value: 7, estimated: false });
  assert.equal(counted.jobs.length, 2);

  // Above exactCountLimit the counts come from a sample, flagged as such.
  await db.sql.unsafe(`analyze ${db.s}._private_jobs`);
  await db.withAdmin({ exactCountLimit: 0 }, async (sampled) => {
    const o = await call<any>(sampled, req("/api/overview"), 200);
    assert.equal(o.countsMeta.source, "sample");
    assert.equal(o.countsMeta.estimated, true);
    assert.equal(o.counts.total, 8);
    const metrics = await (await sampled.fetch(req("/api/metrics"))).text();
    assert.match(metrics, /^spool_counts_estimated 1$/m);
  });
  await clear();
});

test("admin cursor paging: both directions, no row skipped or repeated under inserts and deletes", async () => {
  const seeded: string[] = [];
  for (let i = 0; i < 40; i++) seeded.push(await db.addJob("page", { i }));
  for (const order of ["desc", "asc"] as const) {
    const seen: string[] = [];
    const deleted = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    const visited: JobsPage[] = [];
    do {
      const q: string = `/api/jobs?task=page&limit=7&order=${order}${
        cursor ? `&cursor=${cursor}` : ""
      }`;
      const page: JobsPage = await call<JobsPage>(admin, req(q), 200);
      visited.push(page);
      seen.push(...page.jobs.map((j) => j.id));
      cursor = page.nextCursor;
      // Meanwhile: new jobs arrive and some not yet seen are deleted.
      for (let k = 0; k < 2; k++) await db.addJob("page", { added: pages });
      const unseen = seeded.filter((id) => !seen.includes(id) && !deleted.has(id));
      const victim = unseen[Math.floor(unseen.length / 2)];
      if (victim) {
        deleted.add(victim);
        await db.sql.unsafe(`delete from ${db.s}._private_jobs where id = $1`, [victim]);
      }
      assert.ok(++pages < 50, "paging ends");
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, `${order}: no row repeated`);
    for (const id of seeded) {
      if (!deleted.has(id) && (await db.jobs()).some((j) => j.id === id)) {
        assert.ok(seen.includes(id), `${order}: job ${id} was not skipped`);
      }
    }
    assert.ok(
      seen.every((id, i) =>
        i === 0 ||
        (order === "desc" ? Number(id) < Number(seen[i - 1]) : Number(id) > Number(seen[i - 1]))
      ),
    );
    assert.equal(visited[0].prevCursor, null);

    // Walking back with prevCursor from the last page gives the same pages, now stable.
    const forward: string[][] = [];
    let c: string | null = null;
    let last: JobsPage | undefined;
    do {
      const q: string = `/api/jobs?task=page&limit=6&order=${order}${c ? `&cursor=${c}` : ""}`;
      last = await call<JobsPage>(admin, req(q), 200);
      forward.push(last.jobs.map((j) => j.id));
      c = last.nextCursor;
    } while (c);
    const backward: string[][] = [forward[forward.length - 1]];
    let p = last.prevCursor;
    while (p) {
      const page: JobsPage = await call<JobsPage>(
        admin,
        req(`/api/jobs?task=page&limit=6&order=${order}&direction=prev&cursor=${p}`),
        200,
      );
      backward.unshift(page.jobs.map((j) => j.id));
      assert.ok(page.nextCursor, "a page before another has a next cursor");
      p = page.prevCursor;
    }
    assert.deepEqual(backward, forward);
  }
  const descCursor = (await call<JobsPage>(admin, req("/api/jobs?limit=1"), 200)).nextCursor;
  await fails(admin, req(`/api/jobs?order=asc&cursor=${descCursor}`), 400, "bad_query", "cursor");
  await clear();
});

test("admin actions on ids: complete, delete, fail, run-now, retry, reschedule; locked skipped", async () => {
  const act = (body: Record<string, unknown>) =>
    call<any>(admin, req("/api/jobs/actions", { body }), 200);
  const make = async () => {
    const free = await db.addJob("act", {}, { runAt: new Date(Date.now() + HOUR) });
    const held = await db.addJob("act", {});
    await lockJobs(db, [held], "w-act");
    return { free, held };
  };
  const row = async (id: string) => (await db.jobs()).find((j) => j.id === id);

  for (const action of ["complete", "delete"]) {
    const { free, held } = await make();
    const r = await act({ action, ids: [free, held, "987654321"] });
    assert.deepEqual(r.affected, [free]);
    assert.deepEqual(r.skipped, [{ id: held, reason: "locked" }, {
      id: "987654321",
      reason: "not_found",
    }]);
    assert.equal(await row(free), undefined);
    assert.ok(await row(held));
  }
  {
    const { free, held } = await make();
    const r = await act({ action: "fail", ids: [free, held], reason: "operator says no" });
    assert.deepEqual(r, { affected: [free], skipped: [{ id: held, reason: "locked" }] });
    const j = await call(admin, req(`/api/jobs/${free}`), 200);
    assert.equal(j.state, "failed");
    assert.equal(j.lastError, "operator says no");
    assert.equal((await row(held))!.last_error, null);

    const retried = await act({ action: "retry", ids: [free] });
    assert.deepEqual(retried.affected, [free]);
    const again = await call(admin, req(`/api/jobs/${free}`), 200);
    assert.equal(again.state, "ready");
    assert.equal(again.attempts, 0);

    const runAt = new Date(Date.now() + 2 * HOUR).toISOString();
    const res = await act({
      action: "reschedule",
      ids: [free, held],
      runAt,
      priority: 7,
      maxAttempts: 9,
    });
    assert.deepEqual(res, { affected: [free], skipped: [{ id: held, reason: "locked" }] });
    const moved = await call(admin, req(`/api/jobs/${free}`), 200);
    assert.deepEqual([moved.state, moved.priority, moved.maxAttempts, moved.runAt], [
      "scheduled",
      7,
      9,
      runAt,
    ]);

    const now = await act({ action: "run-now", ids: [free] });
    assert.deepEqual(now.affected, [free]);
    const due = await call<any>(admin, req(`/api/jobs/${free}`), 200);
    assert.equal(due.state, "ready");
    assert.ok(Date.parse(due.runAt) <= Date.now() + 1000);
  }
  await clear();
});

test("admin actions on a filter: expectedCount checked, capped, locked jobs skipped", async () => {
  const bulk: string[] = [];
  for (let i = 0; i < 5; i++) bulk.push(await db.addJob("bulk", { i }));
  const other = await db.addJob("keep", {});
  await lockJobs(db, [bulk[4]], "w-bulk");
  const before = await jobsSnapshot(db);
  const post = (body: Record<string, unknown>) => req("/api/jobs/actions", { body });
  const e = await fails(
    admin,
    post({ action: "fail", filter: { task: "bulk" }, expectedCount: 4 }),
    409,
    "count_mismatch",
    "expectedCount",
  );
  assert.match(e.message, /matches 5 jobs/);
  await fails(
    admin,
    post({ action: "fail", filter: { task: "nothing" }, expectedCount: 1 }),
    409,
    "count_mismatch",
  );
  await db.withAdmin({ maxActionJobs: 3 }, async (capped) => {
    const m = await fails(
      capped,
      post({ action: "complete", filter: { task: "bulk" }, expectedCount: 3 }),
      409,
      "count_mismatch",
    );
    assert.match(m.message, /more than 3/);
    await fails(
      capped,
      post({ action: "complete", filter: { task: "bulk" }, expectedCount: 5 }),
      422,
      "validation",
      "expectedCount",
    );
    await fails(
      capped,
      post({ action: "complete", ids: ["1", "2", "3", "4"] }),
      422,
      "validation",
      "ids",
    );
  });
  assert.equal(await jobsSnapshot(db), before, "refused filter actions change nothing");

  const r = await call<any>(
    admin,
    post({ action: "fail", filter: { task: ["bulk"] }, expectedCount: 5, reason: "bulk fail" }),
    200,
  );
  assert.deepEqual(r.affected, bulk.slice(0, 4));
  assert.deepEqual(r.skipped, [{ id: bulk[4], reason: "locked" }]);
  const failed = await ids("state=failed");
  assert.deepEqual(failed, bulk.slice(0, 4));
  const retried = await call<any>(
    admin,
    post({ action: "retry", filter: { state: "failed", task: "bulk" }, expectedCount: 4 }),
    200,
  );
  assert.deepEqual(retried.affected, bulk.slice(0, 4));
  const done = await call<any>(
    admin,
    post({ action: "complete", filter: { state: ["ready"], payload: { i: 1 } }, expectedCount: 1 }),
    200,
  );
  assert.deepEqual(done.affected, [bulk[1]]);
  const moved = await call<any>(
    admin,
    post({
      action: "reschedule",
      filter: { id: [bulk[0], bulk[2]] },
      expectedCount: 2,
      runAt: new Date(Date.now() + HOUR).toISOString(),
    }),
    200,
  );
  assert.deepEqual(moved.affected, [bulk[0], bulk[2]]);
  assert.deepEqual(await ids("state=scheduled"), [bulk[0], bulk[2]]);
  assert.deepEqual(await ids("task=keep&state=ready"), [other]);
  await clear();
});

test("admin add, remove-by-key and maintenance", async () => {
  const runAt = new Date(Date.now() + HOUR).toISOString();
  const added = await call<any>(
    admin,
    req("/api/jobs", {
      body: {
        taskIdentifier: "added",
        payload: { to: "a@example.com" },
        queueName: "mail",
        runAt,
        priority: -2,
        maxAttempts: 4,
        jobKey: "mail-a",
        jobKeyMode: "replace",
        flags: ["slow"],
      },
    }),
    201,
  );
  assert.deepEqual(
    [
      added.taskIdentifier,
      added.queueName,
      added.runAt,
      added.priority,
      added.maxAttempts,
      added.key,
      added.state,
    ],
    ["added", "mail", runAt, -2, 4, "mail-a", "scheduled"],
  );
  assert.deepEqual(added.flags, { slow: true });
  assert.deepEqual(added.payload, { to: "a@example.com" });

  const removed = await call<any>(
    admin,
    req("/api/jobs/remove-by-key", { body: { key: "mail-a" } }),
    200,
  );
  assert.equal(removed.removed, true);
  assert.equal(removed.job.id, added.id);
  assert.equal((await db.jobs()).length, 0);
  const held = await db.addJob("held", {}, { jobKey: "held-key" });
  await lockJobs(db, [held], "w-key");
  const before = await jobsSnapshot(db);
  await fails(admin, req("/api/jobs/remove-by-key", { body: { key: "held-key" } }), 409, "locked");
  assert.equal(await jobsSnapshot(db), before);

  // force-unlock releases the jobs of a worker id.
  const fu = await call<any>(
    admin,
    req("/api/maintenance", { body: { action: "force-unlock", workerIds: ["w-key"] } }),
    200,
  );
  assert.deepEqual(fu, { workerIds: ["w-key"] });
  assert.equal((await db.jobs())[0].locked_by, null);

  // A registered worker with a stale heartbeat holding a job: dry run first, then the sweep.
  await lockJobs(db, [held], "w-dead");
  await db.sql.unsafe(
    `insert into ${db.s}._private_workers (id, last_heartbeat_at, started_at) values ('w-dead', now() - interval '1 hour', now() - interval '2 hours')`,
  );
  const workers = await call<any>(admin, req("/api/workers"), 200);
  assert.deepEqual(workers.workers.map((w: any) => [w.id, w.isStale, w.lockedJobs]), [[
    "w-dead",
    true,
    1,
  ]]);
  assert.ok(workers.workers[0].heartbeatAgeMs >= 3_000_000);
  const dry = await call<any>(
    admin,
    req("/api/maintenance", { body: { action: "sweep", dryRun: true } }),
    200,
  );
  assert.deepEqual([dry.dryRun, dry.workerIds, dry.jobIds], [true, ["w-dead"], [held]]);
  assert.equal((await db.jobs())[0].locked_by, "w-dead");
  const swept = await call<any>(admin, req("/api/maintenance", { body: { action: "sweep" } }), 200);
  assert.deepEqual([swept.swept, swept.jobIds], [true, [held]]);
  assert.equal((await db.jobs())[0].locked_by, null);

  // cleanup with chosen tasks: permanently failed jobs go.
  await sqlSet(held, "attempts = max_attempts");
  const cleaned = await call<any>(
    admin,
    req("/api/maintenance", { body: { action: "cleanup", tasks: ["DELETE_PERMAFAILED_JOBS"] } }),
    200,
  );
  assert.deepEqual(cleaned, { deletedJobs: 1, deletedTaskIdentifiers: 0, deletedJobQueues: 0 });
  // GC_TASK_IDENTIFIERS keeps what registered workers run (their metadata lists it).
  await db.sql.unsafe(
    `insert into ${db.s}._private_tasks (identifier) values ('live_task'), ('dead_task');
     insert into ${db.s}._private_workers (id, last_heartbeat_at, metadata)
     values ('w-live', now(), '{"tasks": ["live_task", "other"]}')`,
  );
  const gc = await call<any>(admin, req("/api/maintenance", { body: { action: "cleanup" } }), 200);
  assert.deepEqual(gc.keptForWorkers, ["live_task", "other"]);
  assert.ok(gc.deletedTaskIdentifiers >= 2);
  assert.ok(gc.deletedJobQueues >= 1);
  const left = await db.sql.unsafe(`select identifier from ${db.s}._private_tasks order by 1`);
  assert.deepEqual(left.map((r) => r.identifier), ["live_task", "other"]);
  await db.withAdmin({ allowMigrate: true }, async (m) => {
    assert.equal((await call<any>(m, req("/api/session"), 200)).allowMigrate, true);
    const migrated = await call<any>(
      m,
      req("/api/maintenance", { body: { action: "migrate" } }),
      200,
    );
    assert.deepEqual(migrated.applied, []);
  });
  await clear();
});

test("admin timeouts: a page past queryTimeout is a 503; a count past countTimeout is estimated", async () => {
  await db.sql.unsafe(
    `insert into ${db.s}._private_tasks (identifier) values ('bulk_t') on conflict do nothing;
     insert into ${db.s}._private_jobs (task_id, payload)
     select (select id from ${db.s}._private_tasks where identifier = 'bulk_t'),
       json_build_object('n', i, 'pad', repeat('x', 200))
     from generate_series(1, 40000) i;
     analyze ${db.s}._private_jobs;`,
  );
  const nothing = `payload=${encodeURIComponent('{"nope":1}')}`;
  await db.withAdmin({ queryTimeout: 1 }, async (slow) => {
    const e = await fails(slow, req(`/api/jobs?${nothing}`), 503, "unavailable");
    assert.doesNotMatch(e.message, /statement|select/i);
  });
  await db.withAdmin({ countTimeout: 1 }, async (slow) => {
    const page = await call<JobsPage>(slow, req(`/api/jobs?${nothing}&count=true`), 200);
    assert.deepEqual(page.jobs, []);
    assert.equal(page.count.estimated, true);
    assert.equal(typeof page.count.value, "number");
  });
  const exact = await call<JobsPage>(admin, req(`/api/jobs?task=bulk_t&count=true&limit=1`), 200);
  assert.deepEqual(exact.count, { value: 40000, estimated: false });
  await clear();
});

test("admin jobs: cleanup", async () => {
  await db.close();
});
