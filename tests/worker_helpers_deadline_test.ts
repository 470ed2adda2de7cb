/**
 * The tests' `withDeadline` leaves no timer behind. tests/recovery_kill_test.ts once raced its
 * job against a bare 15 s `setTimeout` that was never cleared: under `bun test` (one process for
 * all files) it fired during tests/job_fence_test.ts, queried the recovery test's ended pool, and
 * the unhandled CONNECTION_ENDED rejection failed both fencing tests.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { withDeadline } from "./fixtures/worker_helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("withDeadline: once the promise settles, the deadline never fires", async () => {
  let described = 0;
  const describe = () => {
    described++;
    return Promise.resolve(new Error("too late"));
  };
  assert.equal(await withDeadline(Promise.resolve("done"), 50, describe), "done");
  await assert.rejects(withDeadline(Promise.reject(new Error("own")), 50, describe), /own/);
  await sleep(200);
  assert.equal(described, 0, "describe() ran after the race was over");
});

test("withDeadline: past the deadline, rejects with describe()'s error (or why it failed)", async () => {
  const never = new Promise<never>(() => {});
  await assert.rejects(
    withDeadline(never, 20, () => Promise.resolve(new Error("not in time: state"))),
    /not in time: state/,
  );
  await assert.rejects(
    withDeadline(never, 20, () => Promise.reject(new Error("pool ended"))),
    /could not describe: Error: pool ended/,
  );
});
