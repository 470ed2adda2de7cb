/**
 * Interop (issue 9), part 4: differential test of the job-management API.
 * One script of calls (adds with every option and key mode, bulk adds,
 * remove by key, complete, reschedule, permanently fail, force-unlock,
 * cleanup) runs through graphile-worker 0.18's WorkerUtils on a schema that
 * graphile-worker migrated, then through Spool's WorkerUtils on a schema that
 * Spool migrated. Both must leave the same rows (ids and timestamps ignored,
 * run_at relative to the script's start) and send the same `jobs:insert`
 * notifications (the channel is per database, not per schema, so the scripts
 * run one after the other in a database of their own).
 */
import assert from "node:assert/strict";
import { makeWorkerUtils, runMigrations as gwRunMigrations } from "graphile-worker";
import postgres from "postgres";
import { test } from "../_harness.ts";
import { postgresJs } from "../../src/driver/postgres_js.ts";
import { migrate } from "../../src/migrate/migrate.ts";
import { createWorkerUtils } from "../../src/utils/worker_utils.ts";
import type { JobKeyMode } from "../../src/utils/types.ts";
import { graphileLogger, tableJobs, waitFor, withDatabase } from "./_interop.ts";

const HOUR = 3_600_000;

/** Job options in the script: run_at as hours from the script's start. */
interface AddOpts {
  queueName?: string;
  runAtHours?: number;
  priority?: number;
  maxAttempts?: number;
  jobKey?: string;
  jobKeyMode?: JobKeyMode;
  flags?: string[];
}
interface ManySpec extends AddOpts {
  label: string;
  identifier: string;
}

/** What each side implements; every call returns what the comparison looks at. */
interface Api {
  add(identifier: string, payload: unknown, opts?: AddOpts): Promise<string>;
  addMany(specs: ManySpec[], preserveRunAt: boolean): Promise<string[]>;
  remove(key: string): Promise<number>;
  complete(ids: string[]): Promise<number>;
  reschedule(
    ids: string[],
    o: { runAtHours?: number; priority?: number; attempts?: number; maxAttempts?: number },
  ): Promise<number>;
  permaFail(ids: string[], reason?: string): Promise<number>;
  forceUnlock(workerIds: string[]): Promise<void>;
  cleanup(o?: { tasks?: CleanupTask[]; taskIdentifiersToKeep?: string[] }): Promise<void>;
}
type CleanupTask = "GC_TASK_IDENTIFIERS" | "GC_JOB_QUEUES" | "DELETE_PERMAFAILED_JOBS";

/** Stand-ins for a worker that died holding a job / a queue (the same SQL on both schemas). */
interface Lab {
  lockJob(id: string): Promise<void>;
  lockQueue(name: string): Promise<void>;
}

/** The script. Returns the value of every call, in order. */
async function script(api: Api, lab: Lab): Promise<unknown[]> {
  const out: unknown[] = [];
  const id: Record<string, string> = {};
  id.j1 = await api.add("t_a", { x: 1 });
  id.j2 = await api.add("t_a", { x: 2 }, {
    queueName: "q1",
    priority: 3,
    maxAttempts: 7,
    runAtHours: 1,
    flags: ["f1", "f2"],
  });
  // replace (default mode), then preserve_run_at, then unsafe_dedupe.
  await api.add("t_b", { v: 1 }, { jobKey: "kr", runAtHours: 2 });
  id.j3 = await api.add("t_b", { v: 2 }, { jobKey: "kr", runAtHours: 3, priority: 4 });
  await api.add("t_b", { v: 1 }, { jobKey: "kp", runAtHours: 2, jobKeyMode: "preserve_run_at" });
  id.j4 = await api.add("t_b", { v: 2 }, {
    jobKey: "kp",
    runAtHours: 5,
    jobKeyMode: "preserve_run_at",
  });
  await api.add("t_c", { v: 1 }, { jobKey: "kd", jobKeyMode: "unsafe_dedupe" });
  await api.add("t_c", { v: 2 }, { jobKey: "kd", jobKeyMode: "unsafe_dedupe", priority: 9 });
  // Array payloads under one key are concatenated; a non-array replaces.
  await api.add("t_batch", [1, 2], { jobKey: "kb" });
  await api.add("t_batch", [3], { jobKey: "kb" });
  await api.add("t_batch2", [1], { jobKey: "kb2", queueName: "q3" });
  await api.add("t_batch2", { not: "an array" }, { jobKey: "kb2" });
  // Bulk adds: mixed identifiers and options; then keyed ones with preserve_run_at.
  const many = await api.addMany([
    { label: "m1", identifier: "t_a", queueName: "q2" },
    { label: "m2", identifier: "t_d", priority: -1, maxAttempts: 2 },
    { label: "m3", identifier: "t_b", jobKey: "km", flags: ["f3"] },
  ], false);
  id.m2 = many[1];
  await api.addMany([
    { label: "m4", identifier: "t_b", jobKey: "km", runAtHours: 9 },
    { label: "m5", identifier: "t_b", jobKey: "kn", runAtHours: 1 },
  ], true);
  // A job held by a dead worker: a new add on its key detaches it and inserts a new row.
  id.j7 = await api.add("t_e", { v: 1 }, { jobKey: "kl", queueName: "q1" });
  await lab.lockJob(id.j7);
  await lab.lockJob(id.j1);
  await lab.lockQueue("q1");
  out.push(await api.add("t_e", { v: 2 }, { jobKey: "kl" }) !== id.j7);
  out.push(await api.remove("kd"), await api.remove("missing"), await api.remove("kl"));
  out.push(
    await api.reschedule([id.j1, id.j3], {
      runAtHours: 4,
      priority: 2,
      maxAttempts: 9,
      attempts: 3,
    }),
  );
  out.push(await api.permaFail([id.j2, id.j1], "nope"), await api.permaFail([id.m2]));
  out.push(await api.complete([id.j4, id.j7]));
  await api.forceUnlock(["dead-worker"]);
  out.push(await api.complete([id.j7]));
  await api.cleanup({ tasks: ["DELETE_PERMAFAILED_JOBS"] });
  await api.cleanup({ taskIdentifiersToKeep: ["t_e"] });
  await api.cleanup();
  return out;
}

function runAtOf(start: number, hours: number | undefined): Date | undefined {
  return hours === undefined ? undefined : new Date(start + hours * HOUR);
}

function graphileApi(
  utils: Awaited<ReturnType<typeof makeWorkerUtils>>,
  schema: string,
  start: number,
): Api {
  const spec = (o: AddOpts) => ({
    queueName: o.queueName,
    runAt: runAtOf(start, o.runAtHours),
    priority: o.priority,
    maxAttempts: o.maxAttempts,
    jobKey: o.jobKey,
    jobKeyMode: o.jobKeyMode,
    flags: o.flags,
  });
  return {
    async add(identifier, payload, opts = {}) {
      return (await utils.addJob(identifier, payload, spec(opts))).id;
    },
    async addMany(specs, preserveRunAt) {
      const jobs = await utils.addJobs(
        specs.map((s) => ({
          identifier: s.identifier,
          payload: { tag: s.label },
          ...spec(s),
          jobKeyMode: undefined, // addJobs takes preserveRunAt instead
        })),
        preserveRunAt,
      );
      return specs.map((s) => jobs.find((j) => (j.payload as { tag: string }).tag === s.label)!.id);
    },
    async remove(key) {
      // graphile-worker 0.18's WorkerUtils has no removeJob; its docs call the SQL function.
      const { rows } = await utils.withPgClient((c) =>
        c.query(`select id from "${schema}".remove_job($1::text)`, [key])
      );
      return rows.filter((r) => r.id !== null).length;
    },
    async complete(ids) {
      return (await utils.completeJobs(ids)).length;
    },
    async reschedule(ids, o) {
      const rows = await utils.rescheduleJobs(ids, {
        runAt: runAtOf(start, o.runAtHours),
        priority: o.priority,
        attempts: o.attempts,
        maxAttempts: o.maxAttempts,
      });
      return rows.length;
    },
    async permaFail(ids, reason) {
      return (await utils.permanentlyFailJobs(ids, reason)).length;
    },
    forceUnlock: (workerIds) => utils.forceUnlockWorkers(workerIds),
    async cleanup(o) {
      await (o ? utils.cleanup(o) : utils.cleanup(undefined as never));
    },
  };
}

function spoolApi(utils: ReturnType<typeof createWorkerUtils>, start: number): Api {
  const options = (o: AddOpts) => ({
    queueName: o.queueName,
    runAt: runAtOf(start, o.runAtHours),
    priority: o.priority,
    maxAttempts: o.maxAttempts,
    jobKey: o.jobKey,
    jobKeyMode: o.jobKeyMode,
    flags: o.flags,
  });
  return {
    async add(identifier, payload, opts = {}) {
      return (await utils.addRawJob(identifier, payload, options(opts))).id;
    },
    async addMany(specs, preserveRunAt) {
      const jobs = await utils.addRawJobs(specs.map((s) => ({
        identifier: s.identifier,
        payload: { tag: s.label },
        options: {
          ...options(s),
          jobKeyMode: preserveRunAt && s.jobKey ? "preserve_run_at" as const : undefined,
        },
      })));
      return jobs.map((j) => j.id);
    },
    async remove(key) {
      return (await utils.removeJob(key)) ? 1 : 0;
    },
    async complete(ids) {
      return (await utils.completeJobs(ids)).length;
    },
    async reschedule(ids, o) {
      const rows = await utils.rescheduleJobs(ids, {
        runAt: runAtOf(start, o.runAtHours),
        priority: o.priority,
        attempts: o.attempts,
        maxAttempts: o.maxAttempts,
      });
      return rows.length;
    },
    async permaFail(ids, reason) {
      return (await utils.permanentlyFailJobs(ids, reason)).length;
    },
    forceUnlock: (workerIds) => utils.forceUnlockWorkers(workerIds),
    async cleanup(o) {
      await utils.cleanup(o);
    },
  };
}

function labFor(sql: postgres.Sql, schema: string): Lab {
  const s = `"${schema}"`;
  return {
    async lockJob(id) {
      await sql.unsafe(
        `update ${s}._private_jobs set locked_by = 'dead-worker', locked_at = now(),
           attempts = attempts + 1 where id = $1::bigint`,
        [id],
      );
    },
    async lockQueue(name) {
      await sql.unsafe(
        `update ${s}._private_job_queues set locked_by = 'dead-worker', locked_at = now()
          where queue_name = $1`,
        [name],
      );
    },
  };
}

/** Everything the script leaves, without ids and timestamps; run_at in minutes from `start`. */
async function snapshot(sql: postgres.Sql, schema: string, start: number): Promise<unknown> {
  const jobs = (await tableJobs(sql, schema)).map((j) => ({
    ...j,
    id: undefined,
    run_at: Math.round((j.run_at.getTime() - start) / 60_000),
    locked_at: j.locked_at === null ? null : "set",
  }));
  const tasks = await sql.unsafe(
    `select identifier from "${schema}"._private_tasks order by identifier`,
  );
  const queues = await sql.unsafe(
    `select queue_name, locked_by, locked_at is not null as locked
       from "${schema}"._private_job_queues order by queue_name`,
  );
  return {
    jobs,
    tasks: tasks.map((t) => t.identifier),
    queues: [...queues].map((q) => ({ ...q })),
  };
}

test(
  "interop: graphile-worker's and Spool's WorkerUtils leave the same rows and NOTIFY traffic",
  async () => {
    await withDatabase("diff", "none", async (db) => {
      const { sql, url: dbUrl } = db;
      const listener = postgres(dbUrl, { max: 1, onnotice: () => {} });
      const log = graphileLogger();
      try {
        const gwSchema = "gw_side";
        const spoolSchemaName = "spool_side";
        await gwRunMigrations({ connectionString: dbUrl, schema: gwSchema, logger: log.logger });
        const driver = postgresJs(dbUrl, { max: 1 });
        await migrate(driver, { schema: spoolSchemaName });
        await driver.close();

        // LISTEN on the (database-wide) channel; a sentinel closes each phase.
        const heard: string[] = [];
        await listener.listen("jobs:insert", (payload) => void heard.push(payload));
        const phase = async (name: string, body: () => Promise<unknown[]>) => {
          heard.length = 0;
          const result = await body();
          await sql`select pg_notify('jobs:insert', ${`{"end":"${name}"}`})`;
          await waitFor(`the ${name} sentinel`, () => heard.includes(`{"end":"${name}"}`), 5_000);
          return { result, notes: heard.filter((p) => !p.startsWith('{"end"')) };
        };

        const gwStart = Date.now();
        const gwUtils = await makeWorkerUtils({
          connectionString: dbUrl,
          schema: gwSchema,
          logger: log.logger,
        });
        let gw: { result: unknown[]; notes: string[] };
        try {
          gw = await phase(
            "graphile",
            () => script(graphileApi(gwUtils, gwSchema, gwStart), labFor(sql, gwSchema)),
          );
        } finally {
          await gwUtils.release();
        }
        const gwRows = await snapshot(sql, gwSchema, gwStart);

        const spoolStart = Date.now();
        const spoolUtils = createWorkerUtils({ database: dbUrl, schema: spoolSchemaName });
        let sp: { result: unknown[]; notes: string[] };
        try {
          sp = await phase(
            "spool",
            () => script(spoolApi(spoolUtils, spoolStart), labFor(sql, spoolSchemaName)),
          );
        } finally {
          await spoolUtils.release();
        }
        const spoolRows = await snapshot(sql, spoolSchemaName, spoolStart);

        // Same return values, same rows.
        assert.deepEqual(sp.result, gw.result);
        assert.deepEqual(gw.result, [true, 1, 0, 1, 1, 1, 1, 1, 1]);
        assert.deepEqual(spoolRows, gwRows);
        const jobs = (gwRows as { jobs: { key: string | null }[] }).jobs;
        assert.ok(jobs.length >= 6, `the script leaves rows to compare (${jobs.length})`);

        // Same notifications: {"r": <random>, "count": N}, in the same order.
        const shape = (notes: string[]) =>
          notes.map((p) => {
            const parsed = JSON.parse(p) as Record<string, unknown>;
            assert.deepEqual(Object.keys(parsed).sort(), ["count", "r"], `payload ${p}`);
            assert.equal(typeof parsed.r, "number");
            return parsed.count;
          });
        assert.ok(gw.notes.length > 10, `graphile-worker's script notified (${gw.notes.length})`);
        assert.deepEqual(shape(sp.notes), shape(gw.notes));

        // Known differences, pinned so that a change on either side is noticed.
        // 1. graphile-worker's rescheduleJobs drops 0 (`options.attempts || null`);
        //    Spool applies attempts 0 / priority 0.
        // 2. A bulk add mixing keyless jobs with preserve_run_at keyed ones: graphile-worker
        //    makes one add_jobs call (one NOTIFY, count 2); Spool groups jobs by key mode
        //    (two calls, two NOTIFYs of count 1). Same rows, same total count.
        const known = async (
          name: string,
          schema: string,
          run: (start: number) => Promise<string>,
        ) => {
          const start = Date.now();
          const p = await phase(name, async () => [await run(start)]);
          const [row] = await sql.unsafe(
            `select attempts, priority from "${schema}"._private_jobs where id = $1::bigint`,
            [p.result[0] as string],
          );
          return { row: { ...row }, counts: p.notes.map((n) => JSON.parse(n).count) };
        };
        const gwUtils2 = await makeWorkerUtils({
          connectionString: dbUrl,
          schema: gwSchema,
          logger: log.logger,
        });
        const spoolUtils2 = createWorkerUtils({ database: dbUrl, schema: spoolSchemaName });
        try {
          const gwKnown = await known("gw-known", gwSchema, async () => {
            const [job] = await gwUtils2.addJobs([
              { identifier: "t_z", payload: {}, priority: 5 },
              { identifier: "t_z", payload: {}, jobKey: "kz" },
            ], true);
            await gwUtils2.rescheduleJobs([job.id], { attempts: 4 });
            await gwUtils2.rescheduleJobs([job.id], { attempts: 0, priority: 0 });
            return job.id;
          });
          const spoolKnown = await known("spool-known", spoolSchemaName, async () => {
            const [job] = await spoolUtils2.addRawJobs([
              { identifier: "t_z", payload: {}, options: { priority: 5 } },
              {
                identifier: "t_z",
                payload: {},
                options: { jobKey: "kz", jobKeyMode: "preserve_run_at" },
              },
            ]);
            await spoolUtils2.rescheduleJobs([job.id], { attempts: 4 });
            await spoolUtils2.rescheduleJobs([job.id], { attempts: 0, priority: 0 });
            return job.id;
          });
          assert.deepEqual(gwKnown, { row: { attempts: 4, priority: 5 }, counts: [2] });
          assert.deepEqual(spoolKnown, { row: { attempts: 0, priority: 0 }, counts: [1, 1] });
        } finally {
          await gwUtils2.release();
          await spoolUtils2.release();
        }
        assert.deepEqual(log.errors(), []);
      } finally {
        await listener.end();
      }
    });
  },
);
