/**
 * Interop (issue 9), part 3: graphile-worker 0.18 and Spool run at the same
 * time on one schema while 5,000 jobs are added by Spool, by graphile-worker
 * and by SQL `add_job`. Every job runs exactly once; a named queue never runs
 * two jobs at once across the two systems; failed and permanently failed jobs
 * look the same in the table whichever side ran them.
 */
import assert from "node:assert/strict";
import { makeWorkerUtils, run as gwRun } from "graphile-worker";
import { test } from "../_harness.ts";
import { recordingLogger } from "../fixtures/worker_helpers.ts";
import { createWorker } from "../../src/worker/create_worker.ts";
import { createWorkerUtils } from "../../src/utils/worker_utils.ts";
import type { JobOptions } from "../../src/utils/types.ts";
import { graphileLogger, gwOptions, rawTask, sleep, waitFor, withDatabase } from "./_interop.ts";

const TOTAL = 5000;
const PERMA = 20; // n in [0, 20): maxAttempts 1, always fail
const RETRY = 20; // n in [20, 40): maxAttempts 3, fail on the first attempt only
const CHUNK = 500;
const E = Math.E; // graphile-worker's first retry delay: exp(1) seconds

type Kind = "ok" | "perma" | "retry";
type Side = "gw" | "spool";
interface Payload {
  n: number;
  kind: Kind;
  q?: string;
}
interface Spec {
  payload: Payload;
  queueName?: string;
  maxAttempts?: number;
  priority?: number;
  flags?: string[];
}

/** The 5,000 jobs: special ones first (priority -1, pinned to a side by a flag). */
function specFor(n: number): Spec {
  const kind: Kind = n < PERMA ? "perma" : n < PERMA + RETRY ? "retry" : "ok";
  let q: string | undefined;
  if (kind !== "ok" && n % 4 < 2) q = "qf"; // failing jobs of both sides share a queue
  else if (kind === "ok" && n % 17 === 0) q = `q${n % 5}`;
  const spec: Spec = { payload: q ? { n, kind, q } : { n, kind }, queueName: q };
  if (kind !== "ok") {
    spec.maxAttempts = kind === "perma" ? 1 : 3;
    spec.priority = -1;
    spec.flags = [n % 2 === 0 ? "only_gw" : "only_spool"];
  }
  return spec;
}

interface RunRecord {
  n: number;
  side: Side;
  attempt: number;
  id: string;
}

test("interop: graphile-worker and Spool share one schema under 5,000 mixed jobs", async () => {
  await withDatabase("mixed", "spool", async (db) => {
    const { sql, schema } = db;
    const s = `"${schema}"`;
    const runs: RunRecord[] = [];
    const failedAt = new Map<string, number>();
    const active = new Map<string, number>();
    const overlaps: string[] = [];
    const queueSides = new Map<string, Set<Side>>();

    async function handle(side: Side, raw: unknown, id: string, attempt: number): Promise<void> {
      const p = raw as Payload;
      runs.push({ n: p.n, side, attempt, id });
      if (p.q) {
        const now = (active.get(p.q) ?? 0) + 1;
        active.set(p.q, now);
        if (now > 1) overlaps.push(`${p.q}: job ${p.n} started while ${now - 1} other(s) ran`);
        if (!queueSides.has(p.q)) queueSides.set(p.q, new Set());
        queueSides.get(p.q)!.add(side);
      }
      try {
        if (p.q) await sleep(2);
        if (p.kind === "perma" || (p.kind === "retry" && attempt === 1)) {
          failedAt.set(id, Date.now());
          throw new Error(`${p.kind} ${p.n}`);
        }
      } finally {
        if (p.q) active.set(p.q, active.get(p.q)! - 1);
      }
    }

    const log = graphileLogger();
    const spoolLog = recordingLogger();
    const runner = await gwRun(gwOptions(db, log, {
      concurrency: 8,
      maxPoolSize: 10,
      forbiddenFlags: ["only_spool"],
      taskList: { mixed: (payload, h) => handle("gw", payload, h.job.id, h.job.attempts) },
    }));
    const worker = await createWorker({
      database: db.url,
      schema,
      tasks: [
        rawTask("mixed", (payload, ctx) => handle("spool", payload, ctx.job.id, ctx.job.attempts)),
      ],
      concurrency: 8,
      pollInterval: 50,
      forbiddenFlags: ["only_gw"],
      noHandleSignals: true,
      logger: spoolLog,
      maxPoolSize: 10,
    });
    const running = worker.run();
    const spoolUtils = createWorkerUtils({ database: db.url, schema, maxPoolSize: 2 });
    const gwUtils = await makeWorkerUtils({
      connectionString: db.url,
      schema,
      logger: log.logger,
    });

    // Snapshot each failed job the first time it is seen failed and unlocked.
    const snapshots = new Map<string, Record<string, unknown>>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const rows = await sql.unsafe(
          `select id::text as id, attempts, max_attempts, last_error, run_at, locked_at, locked_by
             from ${s}._private_jobs
            where last_error is not null and locked_at is null and attempts = 1`,
        );
        for (const row of rows) if (!snapshots.has(row.id)) snapshots.set(row.id, { ...row });
        await sleep(25);
      }
    })();

    try {
      // Add the jobs from three sources at once, in chunks of 500.
      const chunks: number[][] = [];
      for (let start = 0; start < TOTAL; start += CHUNK) {
        chunks.push(Array.from({ length: CHUNK }, (_, i) => start + i));
      }
      const bySource = [0, 1, 2].map((k) => chunks.filter((_, i) => i % 3 === k));
      const viaSpool = async () => {
        for (const ns of bySource[0]) {
          await spoolUtils.addRawJobs(ns.map((n) => {
            const spec = specFor(n);
            const options: JobOptions = {};
            if (spec.queueName) options.queueName = spec.queueName;
            if (spec.maxAttempts) options.maxAttempts = spec.maxAttempts;
            if (spec.priority) options.priority = spec.priority;
            if (spec.flags) options.flags = spec.flags;
            return { identifier: "mixed", payload: spec.payload, options };
          }));
        }
      };
      const viaGraphile = async () => {
        for (const ns of bySource[1]) {
          await gwUtils.addJobs(ns.map((n) => ({ identifier: "mixed", ...specFor(n) })));
        }
      };
      const viaSql = async () => {
        for (const ns of bySource[2]) {
          await sql.unsafe(
            `select ${s}.add_job(
               identifier => 'mixed',
               payload => (e->'payload')::json,
               queue_name => e->>'queueName',
               max_attempts => (e->>'maxAttempts')::int,
               priority => (e->>'priority')::int,
               flags => case when e ? 'flags'
                 then array(select jsonb_array_elements_text(e->'flags')) end
             )
             from jsonb_array_elements($1::text::jsonb) as e`,
            [JSON.stringify(ns.map(specFor))],
          );
        }
      };
      await Promise.all([viaSpool(), viaGraphile(), viaSql()]);
      const added = await sql.unsafe(`select count(*)::int as c from ${s}._private_jobs`);
      assert.ok(added[0].c <= TOTAL);

      // Done: every ok job once, retries twice, only the permanently failed rows left.
      const expectedRuns = TOTAL + RETRY;
      await waitFor("all 5,000 jobs to run", async () => {
        if (runs.length < expectedRuns) return false;
        const left = await sql.unsafe(`select count(*)::int as c from ${s}._private_jobs`);
        return left[0].c === PERMA;
      }, 45_000).catch(async (error) => {
        const state = await sql.unsafe(
          `select count(*)::int as left, count(locked_by)::int as locked from ${s}._private_jobs`,
        );
        throw new Error(
          `${(error as Error).message}: ${runs.length}/${expectedRuns} runs, ` +
            `table ${JSON.stringify({ ...state[0] })}, graphile-worker errors ` +
            `${JSON.stringify(log.errors().slice(-3))}, Spool lines ` +
            `${JSON.stringify(spoolLog.lines.filter((l) => l.level !== "debug").slice(-3))}`,
        );
      });
      await sleep(300); // nothing may run twice after the fact
    } finally {
      polling = false;
      await poller;
      await worker.stop();
      await running;
      await runner.stop();
      await spoolUtils.release();
      await gwUtils.release();
    }

    // Exactly once (retry jobs: exactly two attempts, 1 then 2).
    const perN = new Map<number, RunRecord[]>();
    for (const r of runs) perN.set(r.n, [...(perN.get(r.n) ?? []), r]);
    assert.equal(perN.size, TOTAL, "every job ran");
    for (const [n, rs] of perN) {
      const expected = specFor(n).payload.kind === "retry" ? [1, 2] : [1];
      assert.deepEqual(rs.map((r) => r.attempt), expected, `job n=${n} ran ${rs.length} time(s)`);
    }
    const sides = { gw: 0, spool: 0 };
    for (const r of runs) sides[r.side]++;
    assert.ok(sides.gw > 0 && sides.spool > 0, `both sides ran jobs: ${JSON.stringify(sides)}`);
    for (const [n, rs] of perN) {
      const flags = specFor(n).flags;
      if (flags) {
        const want: Side = flags[0] === "only_gw" ? "gw" : "spool";
        assert.ok(rs.every((r) => r.side === want), `flagged job n=${n} ran on the wrong side`);
      }
    }

    // Named queues: never two jobs at once, and both systems took jobs from them.
    assert.deepEqual(overlaps, []);
    const shared = [...queueSides.entries()].filter(([, set]) => set.size === 2).map(([q]) => q);
    assert.ok(shared.includes("qf"), "the flagged failing jobs share queue qf across both sides");
    assert.ok(shared.length > 1, "no other named queue was served by both systems");
    const locked = await sql.unsafe(
      `select (select count(*)::int from ${s}._private_job_queues where locked_by is not null) as q,
              (select count(*)::int from ${s}._private_jobs where locked_by is not null) as j`,
    );
    assert.deepEqual({ ...locked[0] }, { q: 0, j: 0 }, "locks left behind");

    // Failures look the same whichever side ran the job.
    const sideOf = new Map(runs.map((r) => [r.id, r.side]));
    const perSide: Record<Side, string[]> = { gw: [], spool: [] };
    const specials = runs.filter((r) => r.n < PERMA + RETRY && r.attempt === 1);
    assert.equal(specials.length, PERMA + RETRY);
    for (const r of specials) {
      const snap = snapshots.get(r.id);
      assert.ok(snap, `no failed-state snapshot of job n=${r.n}`);
      const kind = specFor(r.n).payload.kind;
      assert.equal(snap.last_error, `${kind} ${r.n}`);
      assert.equal(snap.attempts, 1);
      assert.equal(snap.max_attempts, kind === "perma" ? 1 : 3);
      assert.equal(snap.locked_at, null);
      assert.equal(snap.locked_by, null);
      const delay = ((snap.run_at as Date).getTime() - failedAt.get(r.id)!) / 1000;
      assert.ok(
        delay > E - 0.05 && delay < E + 2,
        `job n=${r.n}: backoff ${delay}s, expected ~e s`,
      );
      perSide[sideOf.get(r.id)!].push(
        `${kind}|${snap.attempts}/${snap.max_attempts}|${String(snap.last_error).split(" ")[0]}`,
      );
    }
    assert.equal(perSide.gw.length, (PERMA + RETRY) / 2);
    assert.deepEqual(perSide.gw.sort(), perSide.spool.sort());

    // The permanently failed rows left behind, compared side by side.
    const rest = await sql.unsafe(
      `select id::text as id, attempts, max_attempts, last_error, is_available,
              locked_at, locked_by, key, revision
         from ${s}._private_jobs order by id`,
    );
    const shape = (row: Record<string, unknown>) =>
      JSON.stringify({ ...row, id: undefined, last_error: String(row.last_error).split(" ")[0] });
    const gwRows = rest.filter((r) => sideOf.get(r.id) === "gw").map(shape);
    const spoolRows = rest.filter((r) => sideOf.get(r.id) === "spool").map(shape);
    assert.equal(gwRows.length, PERMA / 2);
    assert.deepEqual(gwRows, spoolRows);
    assert.ok(rest.every((r) => r.attempts === 1 && r.is_available === false));

    // Only the deliberate failures were logged as errors.
    assert.deepEqual(log.errors().filter((e) => !e.startsWith("Failed task")), []);
    assert.deepEqual(
      spoolLog.lines.filter((l) =>
        l.level === "error" && !l.message.includes("failed permanently")
      ),
      [],
    );
  });
}, { timeout: 90_000 });
