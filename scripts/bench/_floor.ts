/**
 * The SQL floor: what the database and the driver alone cost, with no worker
 * logic. Four connections each loop "lock a batch of 500 with
 * graphile-worker's own batch-fetch statement, then delete them with
 * `DELETE … WHERE id = ANY($1)`" until stopped. The schema is graphile-worker's
 * (migrated by graphile-worker 0.18.0); inserts go through one `add_jobs` call
 * per batch. Same driver as Spool (postgres.js, prepared statements), so the
 * client figures are comparable with Spool's.
 */
import postgres from "postgres";
import type { BenchSystem } from "./_systems.ts";
import { sleep } from "./_measure.ts";
import { Producer, specJson } from "./_producer.ts";

/** Batch size and connections of the floor (graphile-worker's perfTest batch, four processes). */
export const FLOOR = { batch: 500, connections: 4 } as const;

function withAppName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", name);
  return u.toString();
}

/**
 * graphile-worker 0.18's batch fetch (named-queue strategy "lock the queues
 * up front", one job per named queue, `returning *`), written out for one
 * schema and batch size without flags.
 */
function fetchText(s: string, batch: number): string {
  return `with j_raw as (
  select jobs.job_queue_id, jobs.priority, jobs.run_at, jobs.id
  from ${s}._private_jobs as jobs
  where jobs.is_available = true and run_at <= now() and task_id = any($2::int[])
    and (jobs.job_queue_id is null or jobs.job_queue_id in (
      select id from ${s}._private_job_queues as job_queues
      where job_queues.is_available = true for update skip locked))
  order by priority asc, run_at asc
  limit ${batch}
  for update skip locked
), j as (
  select distinct on (job_queue_id, case when job_queue_id is null then id end)
    job_queue_id, priority, run_at, id
  from j_raw
  order by job_queue_id, case when job_queue_id is null then id end, priority asc, run_at asc
), q as (
  update ${s}._private_job_queues as job_queues
  set locked_by = $1::text, locked_at = now()
  from j where job_queues.id = j.job_queue_id
)
update ${s}._private_jobs as jobs
set attempts = jobs.attempts + 1, locked_by = $1::text, locked_at = now()
from j where jobs.id = j.id
returning *`;
}

/** The floor as a {@linkcode BenchSystem} (its worker ignores `concurrency` and `mode`). */
export function floorSystem(url: string, schema: string, tag: string): Promise<BenchSystem> {
  const s = `"${schema}"`;
  const utilsSql = postgres(withAppName(url, `${tag}_utils`), { max: 1, onnotice: () => {} });
  const producer = new Producer(url, schema, `${tag}_utils`);
  let sql: postgres.Sql | undefined;
  let stopping = false;
  let loops: Promise<void>[] = [];
  let taskId: number | undefined;
  const deleteText = `delete from ${s}._private_jobs where id = any($1::bigint[])`;
  const deleteQueuedText = `with j as (
  delete from ${s}._private_jobs where id = any($1::bigint[]) returning job_queue_id
)
update ${s}._private_job_queues as job_queues set locked_by = null, locked_at = null
from j where job_queues.id = j.job_queue_id and job_queues.locked_by = $2::text`;

  async function loop(
    db: postgres.Sql,
    workerId: string,
    onJob: (i: number, t: undefined) => void,
  ) {
    const text = fetchText(s, FLOOR.batch);
    while (!stopping) {
      const rows = await db.unsafe(text, [workerId, [taskId!]], { prepare: true });
      if (rows.length === 0) {
        await sleep(2);
        continue;
      }
      const ids: string[] = [];
      const queued: string[] = [];
      for (const row of rows) {
        onJob((row.payload as { i: number }).i, undefined);
        (row.job_queue_id === null ? ids : queued).push(row.id as string);
      }
      if (ids.length > 0) await db.unsafe(deleteText, [ids], { prepare: true });
      if (queued.length > 0) {
        await db.unsafe(deleteQueuedText, [queued, workerId], { prepare: true });
      }
    }
  }

  return Promise.resolve({
    async migrate() {
      const gw = await import("graphile-worker");
      const utils = await gw.makeWorkerUtils({
        connectionString: withAppName(url, `${tag}_utils`),
        schema,
        logger: new gw.Logger(() => () => {}),
      });
      await utils.migrate();
      await utils.release();
    },
    async addJobs(from, to, queueOf) {
      const parts: string[] = [];
      for (let i = from; i < to; i++) parts.push(specJson(i, queueOf(i)));
      await producer.add(parts);
    },
    async addJob(i) {
      await producer.add([specJson(i)]);
    },
    async startWorker(_concurrency, _mode, onJob) {
      const [row] = await utilsSql.unsafe(
        `select id from ${s}._private_tasks where identifier = 'bench'`,
      );
      taskId = row.id as number;
      stopping = false;
      sql = postgres(withAppName(url, tag), { max: FLOOR.connections, onnotice: () => {} });
      const db = sql;
      // postgres.js loads array types on its first connection; the others must not race it.
      await db.unsafe("select $1::int[] as warm", [[1]], { prepare: true });
      loops = Array.from(
        { length: FLOOR.connections },
        (_, k) => loop(db, `floor_${tag}_${k}`, onJob),
      );
    },
    async stopWorker() {
      stopping = true;
      await Promise.all(loops);
      await sql?.end();
      sql = undefined;
    },
    exited() {
      return new Promise<string>(() => {}); // nothing outside can stop the floor
    },
    async close() {
      await utilsSql.end();
      await producer.close();
    },
  });
}
