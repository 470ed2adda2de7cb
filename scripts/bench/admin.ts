// deno-lint-ignore-file no-console
/**
 * Admin API latency on a big jobs table: `deno run -A scripts/bench/admin.ts [rows]`
 * (default 1,000,000; DATABASE_URL, else 127.0.0.1:5432).
 *
 * Fills a schema of its own with generate_series SQL (states mixed like a busy
 * queue: mostly ready, some scheduled, retrying, failed, running; a third in
 * named queues, a few locked), then times the admin's fetch handler in-process
 * (auth included, no HTTP): overview and metrics (counts cache off, so every
 * call counts), filtered job pages by task, state, queue and worker, and a
 * cursor walk over the whole table (time per page by depth). With --explain it
 * prints EXPLAIN (ANALYZE, BUFFERS) of every statement the routes sent. The
 * schema is dropped at the end.
 */
import postgres from "postgres";
import process from "node:process";
import { createAdmin } from "../../src/admin/mod.ts";
import { postgresJs } from "../../src/driver/postgres_js.ts";
import type { Driver } from "../../src/driver/types.ts";
import { migrate } from "../../src/migrate/migrate.ts";

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const rows = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const explain = process.argv.includes("--explain");
// --only <text>: time only the routes whose label contains it (and skip the walk).
const only = process.argv.includes("--only")
  ? process.argv[process.argv.indexOf("--only") + 1]
  : "";
const schema = `spool_bench_admin_${Math.random().toString(36).slice(2, 8)}`;
const s = `"${schema}"`;
const TOKEN = "bench-token-0123456789";

const sql = postgres(url, { max: 1, onnotice: () => {} });
const base = postgresJs(url, { max: 4 });
const seen: Array<{ text: string; params: readonly unknown[] }> = [];
let recording = false;
// Records the statements a route sends, for EXPLAIN.
const driver: Driver = Object.assign(Object.create(base), {
  query(text: string, params?: readonly unknown[]) {
    if (recording) seen.push({ text, params: params ?? [] });
    return base.query(text, params);
  },
  transaction<T>(fn: (tx: Driver) => Promise<T>) {
    return base.transaction((tx) =>
      fn(Object.assign(Object.create(tx), {
        query(text: string, params?: readonly unknown[]) {
          if (recording && !text.includes("set_config")) seen.push({ text, params: params ?? [] });
          return tx.query(text, params);
        },
      }))
    );
  },
});

async function fill(): Promise<void> {
  await migrate(base, { schema });
  const t0 = performance.now();
  await sql.unsafe(`
    insert into ${s}._private_tasks (identifier) select 'task_' || i from generate_series(1, 21) i;
    insert into ${s}._private_job_queues (queue_name) select 'queue_' || i from generate_series(1, 201) i;
    update ${s}._private_job_queues set locked_at = now(), locked_by = 'bench_worker_' || (id % 4)
      where id % 20 = 0;
    insert into ${s}._private_jobs
      (task_id, job_queue_id, payload, priority, run_at, attempts, max_attempts, last_error,
       created_at, locked_at, locked_by, key)
    select
      1 + (i * 7) % 20,
      case when i % 3 = 0 then 1 + (i / 3) % 200 end,
      json_build_object('n', i, 'account', i % 1000),
      (i % 5) - 2,
      case when r < 0.70 then now() - (i % 86400) * interval '1 second'
           when r < 0.85 then now() + (i % 7200) * interval '1 second'
           else now() - interval '1 minute' end,
      case when r >= 0.70 and r < 0.80 then 0 when r < 0.85 and r >= 0.80 then 1 + i % 3
           when r >= 0.85 and r < 0.97 then 25 else 0 end,
      25,
      case when r >= 0.80 and r < 0.97 then 'Error: upstream timeout ' || (i % 50) end,
      now() - (${rows} - i) * interval '10 millisecond',
      case when r >= 0.999 then now() end,
      case when r >= 0.999 then 'bench_worker_' || (i % 4) end,
      case when i % 10 = 0 then 'key_' || i end
    from (select i, ((i * 2654435761) % 1000000) / 1000000.0 as r
          from generate_series(1, ${rows}) i) g;
    -- Rare values spread over the whole table: the worst case of a filtered page.
    update ${s}._private_jobs set task_id = 21 where id % 20000 = 1;
    update ${s}._private_jobs set job_queue_id = 201 where id % 20000 = 2;
  `);
  await sql.unsafe(`vacuum analyze ${s}._private_jobs`);
  console.log(
    `filled ${rows} jobs in ${((performance.now() - t0) / 1000).toFixed(1)} s (schema ${schema})`,
  );
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function time(
  admin: ReturnType<typeof createAdmin>,
  label: string,
  path: string,
  n = 15,
): Promise<void> {
  if (only && !label.includes(only)) return;
  const samples: number[] = [];
  let status = 0;
  let size = 0;
  for (let i = 0; i < n + 2; i++) {
    recording = explain && i === 0;
    const t0 = performance.now();
    const r = await admin.fetch(
      new Request(`http://bench${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    const body = await r.text();
    const ms = performance.now() - t0;
    recording = false;
    status = r.status;
    size = body.length;
    if (i >= 2) samples.push(ms); // two warm-up calls
  }
  samples.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(34)} ${status} median ${pct(samples, 50).toFixed(1).padStart(7)} ms  ` +
      `p90 ${pct(samples, 90).toFixed(1).padStart(7)} ms  (${size} B)`,
  );
  if (explain) await explainSeen(label);
}

async function explainSeen(label: string): Promise<void> {
  const statements = seen.splice(0);
  for (const st of statements) {
    if (/^\s*(select set_config|explain)/i.test(st.text)) continue;
    const plan = await sql.unsafe(
      `explain (analyze, buffers, format text) ${st.text}`,
      st.params as never[],
    );
    const lines = plan.map((r) => String(r["QUERY PLAN"]));
    console.log(`  --- ${label}: ${st.text.replace(/\s+/g, " ").slice(0, 110)}…`);
    for (const line of lines) console.log(`  ${line}`);
  }
}

async function walk(admin: ReturnType<typeof createAdmin>, limit: number): Promise<void> {
  let cursor: string | null = null;
  let page = 0;
  const buckets = new Map<number, number[]>();
  const t0 = performance.now();
  do {
    const q: string = `/api/jobs?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
    const p0 = performance.now();
    const r: Response = await admin.fetch(
      new Request(`http://bench${q}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    const body: { nextCursor: string | null } = await r.json();
    const ms = performance.now() - p0;
    const depth = Math.floor((page * limit) / (rows / 5));
    (buckets.get(depth) ?? buckets.set(depth, []).get(depth)!).push(ms);
    cursor = body.nextCursor;
    page++;
  } while (cursor);
  console.log(
    `cursor walk, ${page} pages of ${limit}: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const [depth, ms] of [...buckets].sort((a, b) => a[0] - b[0])) {
    ms.sort((a, b) => a - b);
    console.log(
      `  rows ${(depth * rows / 5).toLocaleString("en").padStart(9)}+: median ${
        pct(ms, 50).toFixed(1)
      } ms, p90 ${pct(ms, 90).toFixed(1)} ms`,
    );
  }
}

try {
  await fill();
  const noCache = createAdmin({
    driver,
    schema,
    auth: { bearer: { token: TOKEN } },
    countCacheTtl: 0,
    maxPageSize: 1000,
  });
  const cached = createAdmin({ driver, schema, auth: { bearer: { token: TOKEN } } });
  const load = await sql.unsafe(`select round(extract(epoch from now())) as t`);
  console.log(`machine shared and loaded; loadavg at start: ${await loadavg()} (t=${load[0].t})`);
  await time(noCache, "overview (no cache)", "/api/overview");
  await time(cached, "overview (2 s cache, polled)", "/api/overview");
  await time(noCache, "metrics (no cache)", "/api/metrics");
  await time(noCache, "tasks (no cache)", "/api/tasks");
  await time(noCache, "workers", "/api/workers");
  await time(noCache, "jobs page (no filter)", "/api/jobs?limit=50");
  await time(noCache, "jobs page task=task_7", "/api/jobs?limit=50&task=task_7");
  await time(noCache, "jobs page state=ready", "/api/jobs?limit=50&state=ready");
  await time(noCache, "jobs page state=failed", "/api/jobs?limit=50&state=failed");
  await time(noCache, "jobs page state=running", "/api/jobs?limit=50&state=running");
  await time(noCache, "jobs page state=blocked", "/api/jobs?limit=50&state=blocked");
  await time(noCache, "jobs page queue=queue_17", "/api/jobs?limit=50&queue=queue_17");
  await time(noCache, "jobs page task=task_21 (rare)", "/api/jobs?limit=50&task=task_21");
  await time(noCache, "jobs page queue=queue_201 (rare)", "/api/jobs?limit=50&queue=queue_201");
  await time(
    noCache,
    "jobs page worker=bench_worker_1",
    "/api/jobs?limit=50&worker=bench_worker_1",
  );
  await time(
    noCache,
    "jobs page task+state=retrying",
    "/api/jobs?limit=50&task=task_3&state=retrying",
  );
  await time(noCache, "jobs page key=key_500000", "/api/jobs?limit=50&key=key_500000");
  await time(noCache, "jobs page error=timeout 7", "/api/jobs?limit=50&error=timeout%207", 5);
  await time(
    noCache,
    "jobs page payload account=42",
    `/api/jobs?limit=50&payload=${encodeURIComponent('{"account":42}')}`,
    5,
  );
  await time(noCache, "jobs page + count (task)", "/api/jobs?limit=50&task=task_7&count=true", 5);
  if (!explain && !only) await walk(noCache, 1000);
  console.log(`loadavg at end: ${await loadavg()}`);
  await noCache.close();
  await cached.close();
} finally {
  await sql.unsafe(`drop schema if exists ${s} cascade`);
  await sql.end();
  await base.close();
}

async function loadavg(): Promise<string> {
  try {
    const { readFileSync } = await import("node:fs");
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
}
