/**
 * add_jobs inserts new queue names and task identifiers in sorted order
 * (migration 24), so two transactions adding overlapping new names never wait
 * on each other in a cycle. The steps force the interleaving that deadlocked:
 * A holds a new queue name, B (adding many names) waits on it, A then adds a
 * name B may already hold.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { setupDb } from "./fixtures/worker_helpers.ts";
import { adminSql } from "./_db.ts";

test("add_jobs: concurrent adds of overlapping new queue names and tasks never deadlock", async () => {
  const db = await setupDb("add_jobs_deadlock");
  const a = adminSql(1);
  const b = adminSql(1);
  try {
    const names = Array.from({ length: 40 }, (_, i) => `n${String(i).padStart(2, "0")}`);
    const spec = (n: string) => ({ identifier: `t_${n}`, queue_name: `q_${n}` });
    const addJobs = (specs: { identifier: string; queue_name: string }[]) =>
      `select count(*)::int as n from ${db.s}.add_jobs(array(
         select json_populate_recordset(null::${db.s}.job_spec, '${JSON.stringify(specs)}'::json)
       ))`;
    for (let round = 0; round < 5; round++) {
      await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
      await db.sql.unsafe(`delete from ${db.s}._private_job_queues`);
      await db.sql.unsafe(`delete from ${db.s}._private_tasks`);
      // A holds the smallest name; B adds every name; A then adds all the others.
      const first = names[0];
      let bDone: Promise<unknown> = Promise.resolve();
      await a.begin(async (ta) => {
        await ta.unsafe(addJobs([spec(first)]));
        bDone = b.begin(async (tb) => {
          // Without a sort, DISTINCT hashes: B would insert names in hash order, not sorted.
          await tb.unsafe("set local enable_sort = off");
          return await tb.unsafe(addJobs(names.map(spec)));
        });
        await new Promise((r) => setTimeout(r, 300)); // B inserts what it can, then waits on A
        // Names B may already hold: in sorted order B waits on the first before taking any.
        await ta.unsafe(addJobs(names.slice(1).map(spec))); // a deadlock (40P01) fails A or B
      });
      await bDone;
    }
    const [{ n }] = await db.sql.unsafe(`select count(*)::int as n from ${db.s}._private_jobs`);
    assert.equal(n, 2 * names.length, "every job of the last round was added");
  } finally {
    await a.end();
    await b.end();
    await db.close();
  }
});
