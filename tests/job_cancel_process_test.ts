/**
 * Cancellation across processes and runtimes: a worker in a child process
 * of the OTHER runtime (Bun when this file runs under Deno, Deno under Bun)
 * runs a job; this process cancels it. The child's task sees its signal
 * aborted with reason kind "cancelled" and the job ends permanently failed
 * with "cancelled: <reason>".
 */
import assert from "node:assert/strict";
import { runtimeName, test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb, type TestDb, waitFor } from "./fixtures/worker_helpers.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { createWorkerUtils } from "../src/utils/worker_utils.ts";

let db: TestDb;

test("cancel across processes: setup", async () => {
  db = await setupDb("job_cancel_process");
  await db.sql.unsafe(
    `create table ${db.s}.fixture_events (job_id text, event text, detail text, at timestamptz)`,
  );
});

test(`a running job in a ${runtimeName === "deno" ? "Bun" : "Deno"} worker is cancelled from ${runtimeName}`, async () => {
  const other = runtimeName === "deno" ? "bun" : "deno";
  const fixture = new URL("./fixtures/worker_cancel.ts", import.meta.url).pathname;
  const repoRoot = new URL("..", import.meta.url).pathname;
  const args = other === "deno" ? ["run", "-A", fixture] : [fixture];
  const id = await db.addJob("cancel_me", {}, { maxAttempts: 5 });
  const killer = new AbortController();
  const hardTimeout = setTimeout(() => killer.abort(), 90_000);
  const child = detectRuntime().spawn(other, args, {
    cwd: repoRoot,
    env: { DATABASE_URL: databaseUrl(), SPOOL_TEST_SCHEMA: db.schema },
    signal: killer.signal,
  });
  const utils = createWorkerUtils({ driver: db.driver(2), schema: db.schema });
  try {
    await Promise.race([
      waitFor("the child's task to start", async () => {
        const rows = await db.sql.unsafe(
          `select detail from ${db.s}.fixture_events where event = 'started'`,
        );
        return rows.length > 0;
      }, 60_000),
      child.status.then((s) => {
        throw new Error(`child exited early (${s.code}): ${s.stdout}\n${s.stderr}`);
      }),
    ]);
    const [started] = await db.sql.unsafe(`select detail from ${db.s}.fixture_events`);
    assert.equal(started.detail, other, "the job runs in the other runtime");
    const t0 = Date.now();
    const [{ at: cancelAt }] = await db.sql.unsafe(`select clock_timestamp() as at`);
    const result = await utils.cancelJobs([id], { reason: `from ${runtimeName}` });
    assert.deepEqual(result, { cancelled: [], running: [id] });
    await waitFor("the job to end permanently failed", async () => {
      const [row] = await db.jobs();
      return row?.locked_by === null && row.last_error !== null;
    }, 30_000);
    const elapsed = Date.now() - t0;
    const [row] = await db.jobs();
    assert.equal(row.last_error, `cancelled: from ${runtimeName}`);
    assert.equal(row.attempts, row.max_attempts, "no retry");
    const [aborted] = await db.sql.unsafe(
      `select detail, at from ${db.s}.fixture_events where event = 'aborted'`,
    );
    assert.equal(aborted?.detail, "cancelled");
    // Within a second on a live worker, by the database's clock: the signal aborted, and
    // the job written permanently failed.
    const abortMs = (aborted.at as Date).getTime() - (cancelAt as Date).getTime();
    const [{ updated_at: failedAt }] = await db.sql.unsafe(
      `select updated_at from ${db.s}._private_jobs where id = $1`,
      [id],
    );
    const failedMs = (failedAt as Date).getTime() - (cancelAt as Date).getTime();
    // deno-lint-ignore no-console
    console.log(`cancel: signal aborted after ${abortMs} ms, job failed after ${failedMs} ms`);
    assert.ok(abortMs < 1000, `the child's signal aborted ${abortMs} ms after the cancel`);
    assert.ok(failedMs < 1000, `the job was failed ${failedMs} ms after the cancel`);
    assert.ok(elapsed < 15_000, `took ${elapsed} ms`);
  } finally {
    clearTimeout(hardTimeout);
    child.kill("SIGTERM");
    await Promise.race([child.status, new Promise((r) => setTimeout(r, 10_000))]);
    child.kill("SIGKILL");
    await utils.driver.close();
  }
});

test("cancel across processes: teardown", async () => {
  await db.close();
});
