/** Completer.completeThen: one write per batch, the tag handed back, held jobs released once written. */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import type { Queryable, QueryResult } from "../src/driver/types.ts";
import { Completer } from "../src/worker/completer.ts";
import { HeldJobs } from "../src/worker/held_jobs.ts";
import { silentLogger } from "../src/logger.ts";
import { systemClock } from "../src/runtime/clock.ts";

/** A completer over `db` (and `held`, when given). */
function completerOn(db: Queryable, held?: HeldJobs): Completer {
  return new Completer({
    db,
    schema: "s",
    workerId: "w",
    logger: silentLogger,
    clock: systemClock,
    localClock: undefined,
    held,
  });
}

/** A Queryable that records statements and answers after `release()` is called. */
function gatedDb() {
  const calls: unknown[][] = [];
  let open!: () => void;
  let gate = new Promise<void>((r) => (open = r));
  const db: Queryable = {
    async query<R>(_text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      calls.push([...params]);
      await gate;
      return { rows: [], rowCount: 0 };
    },
  };
  return {
    db,
    calls,
    release() {
      open();
      gate = new Promise<void>((r) => (open = r));
    },
  };
}

test("completeThen: done(tag) runs after the write, completions during a write share the next one", async () => {
  const { db, calls, release } = gatedDb();
  const held = new HeldJobs();
  held.add(["1", "2", "3"]);
  const completer = completerOn(db, held);
  const done: string[] = [];
  const onDone = (tag: string) => void done.push(tag);
  completer.completeThen("1", onDone, "job-1");
  await new Promise((r) => setTimeout(r, 0));
  completer.completeThen("2", onDone, "job-2");
  completer.completeThen("3", onDone, "job-3");
  assert.equal(calls.length, 1, "one write in flight");
  assert.deepEqual(done, [], "nothing is done before its write settles");
  assert.equal(held.size, 3);
  release();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(done, ["job-1"]);
  assert.deepEqual(held.ids().sort(), ["2", "3"], "held released with its batch");
  assert.equal(calls.length, 2, "the two queued completions go out together");
  assert.deepEqual(calls[1][1], ["2", "3"]);
  release();
  await completer.flush();
  assert.deepEqual(done, ["job-1", "job-2", "job-3"]);
  assert.equal(held.size, 0);
});

test("completeThen: a throwing callback does not stop the others of its batch", async () => {
  const { db, release } = gatedDb();
  const completer = completerOn(db);
  const done: number[] = [];
  completer.completeThen("0", (t: number) => void done.push(t), 0); // occupies the first write
  completer.completeThen("1", () => {
    throw new Error("boom");
  }, 1);
  completer.completeThen("2", (t: number) => void done.push(t), 2);
  release();
  await new Promise((r) => setTimeout(r, 10));
  release();
  await completer.flush();
  assert.deepEqual(done, [0, 2]);
});
