import assert from "node:assert/strict";
import process from "node:process";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb, type TestDb, waitFor } from "./fixtures/worker_helpers.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { INTERRUPTED_MESSAGE } from "../src/worker/pool.ts";

let db: TestDb;

test("worker signals: setup", async () => {
  db = await setupDb("worker_signal");
});

test("a real SIGTERM: the running job is handed back (unlocked, attempt kept, run_at pushed) and the process ends", async () => {
  const id = await db.addJob("long_job", {}, { queueName: "sig_q" });
  const rt = detectRuntime();
  const fixture = new URL("./fixtures/worker_sigterm.ts", import.meta.url).pathname;
  const repoRoot = new URL("..", import.meta.url).pathname;
  const args = rt.name === "deno" ? ["run", "-A", fixture] : [fixture];
  const killer = new AbortController();
  const hardTimeout = setTimeout(() => killer.abort(), 60_000);
  const child = rt.spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { DATABASE_URL: databaseUrl(), SPOOL_TEST_SCHEMA: db.schema },
    signal: killer.signal,
  });
  try {
    await Promise.race([
      waitFor("the child to lock the job", async () => {
        const [row] = await db.jobs();
        return row?.locked_by != null;
      }, 45_000),
      child.status.then((s) => {
        throw new Error(`child exited early (${s.code}): ${s.stdout}\n${s.stderr}`);
      }),
    ]);
    child.kill("SIGTERM");
    const status = await child.status;
    const output = `${status.stdout}\n${status.stderr}`;
    assert.equal(status.code, 0, output);
    assert.match(output, /Received SIGTERM/);
    assert.match(output, /fixture: run\(\) resolved/);
    const [{ now }] = await db.sql`select now() as now`;
    const [row] = await db.jobs();
    assert.equal(row.id, id);
    assert.equal(row.locked_by, null);
    assert.equal(row.locked_at, null);
    assert.equal(row.attempts, 0, "the interrupted attempt is not used up");
    assert.equal(row.last_error, INTERRUPTED_MESSAGE);
    const delay = row.run_at.getTime() - (now as Date).getTime();
    assert.ok(delay > 35_000 && delay <= 45_000, `run_at pushed by ~45 s (got ${delay} ms)`);
    const [queue] = await db.sql.unsafe(
      `select locked_by from ${db.s}._private_job_queues where queue_name = 'sig_q'`,
    );
    assert.equal(queue.locked_by, null);
  } finally {
    clearTimeout(hardTimeout);
    child.kill("SIGKILL");
  }
});

test("worker signals: teardown", async () => {
  await db.close();
});
