/**
 * Scaling out: 1, 2 and 4 worker processes (alternating Deno and Bun) drain
 * one backlog on one database; aggregate jobs/s, client and PostgreSQL CPU
 * per job, for Spool and graphile-worker, interleaved.
 *
 *   deno run -A scripts/bench/scale.ts [--jobs 100000] [--processes 1,2,4] [--rounds 1]
 *
 * Options: --jobs N, --processes P[,P…], --rounds N, --mode batched|defaults,
 * --concurrency N (24 per process), --systems spool,graphile-worker, --out FILE.
 * Needs both `deno` and `bun` on PATH (or DENO_BIN / BUN_BIN).
 */
import process from "node:process";
import { mkdirSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { BackendCpu, sleep } from "./_measure.ts";
import { Producer, specJson } from "./_producer.ts";
import { fmt, log, median, parseArgs } from "./_report.ts";
import { freshSchemas, loadavg, spawnWorker, THIS_RUNTIME } from "./_spawn.ts";
import type { Mode } from "./_systems.ts";

type SystemName = "spool" | "graphile-worker";
const args = parseArgs(process.argv.slice(2));
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const jobs = Number(args.jobs ?? 100_000);
const counts = (args.processes ?? "1,2,4").split(",").map(Number);
const rounds = Number(args.rounds ?? 1);
const mode = (args.mode ?? "batched") as Mode;
const concurrency = Number(args.concurrency ?? 24);
const systems = (args.systems ?? "spool,graphile-worker").split(",") as SystemName[];
const schemas: Record<SystemName, string> = {
  "spool": "spool_scale",
  "graphile-worker": "gw_scale",
};
const abs = () => performance.timeOrigin + performance.now();
const other = THIS_RUNTIME === "deno" ? "bun" : "deno";

const admin = postgres(url, { max: 1, onnotice: () => {} });
await freshSchemas(admin, url, schemas, systems);

interface Row {
  system: SystemName;
  processes: number;
  runtimes: string;
  jobsPerSec: number;
  clientCpuUsPerJob: number;
  backendCpuUsPerJob: number | null;
  load: string;
}
const rows: Row[] = [];

async function runOne(system: SystemName, n: number): Promise<Row> {
  const schema = schemas[system];
  await admin.unsafe(`truncate "${schema}"._private_jobs, "${schema}"._private_job_queues`);
  const producer = new Producer(url, schema, "scale_producer");
  for (let from = 0; from < jobs; from += 1000) {
    const specs: string[] = [];
    for (let i = from; i < Math.min(jobs, from + 1000); i++) specs.push(specJson(i));
    await producer.add(specs);
  }
  await producer.close();
  await admin.unsafe(`analyze "${schema}"._private_jobs`); // both systems plan with statistics
  const load = loadavg();
  const tag = `scale_${system === "spool" ? "spool" : "gw"}_${process.pid}`;
  const probe = new BackendCpu(url, tag);
  const workers = Array.from({ length: n }, (_, k) =>
    spawnWorker(
      { system, mode, url, schema, concurrency, tag, bucketMs: 1000 },
      k % 2 === 0 ? THIS_RUNTIME : other,
    ));
  await Promise.all(workers.map((w) => w.ready));
  while (!(await probe.empty(schema))) await sleep(5);
  const emptyAt = abs();
  const cpu = await probe.snapshot();
  const results = await Promise.all(workers.map((w) => w.stop()));
  await probe.close();
  const first = Math.min(...results.filter((r) => r.started > 0).map((r) => r.firstStart));
  return {
    system,
    processes: n,
    runtimes: results.map((r) => r.runtime.split(" ")[0]).join("+"),
    jobsPerSec: jobs / ((emptyAt - first) / 1000),
    clientCpuUsPerJob: results.reduce((s, r) => s + r.clientCpuMicros, 0) / jobs,
    backendCpuUsPerJob: cpu ? cpu.micros / jobs : null,
    load,
  };
}

log(
  `Scale-out — ${jobs} jobs, ${mode}, concurrency ${concurrency} per process, processes ` +
    `${counts.join(", ")}, ${rounds} round(s); load ${loadavg()}`,
);
for (let round = 0; round < rounds; round++) {
  for (const [k, n] of counts.entries()) {
    const order = (round + k) % 2 === 0 ? systems : [...systems].reverse();
    for (const system of order) {
      const r = await runOne(system, n);
      rows.push(r);
      log(
        `  ${n} × ${system.padEnd(15)} (${r.runtimes}) ${fmt(r.jobsPerSec)} jobs/s  client ` +
          `${r.clientCpuUsPerJob.toFixed(1)} µs/job (all processes)  PG ${
            r.backendCpuUsPerJob?.toFixed(1) ?? "-"
          } µs/job  [load ${r.load}]`,
      );
    }
  }
}
for (const system of systems) {
  await admin.unsafe(`drop schema if exists "${schemas[system]}" cascade`);
}
await admin.end();
log("\nmedians: processes | system | jobs/s | client µs/job | PG µs/job");
for (const n of counts) {
  for (const system of systems) {
    const mine = rows.filter((r) => r.processes === n && r.system === system);
    const pg = mine.map((r) => r.backendCpuUsPerJob).filter((x): x is number => x !== null);
    log(
      `  ${n} | ${system} | ${fmt(median(mine.map((r) => r.jobsPerSec)))} | ${
        median(mine.map((r) => r.clientCpuUsPerJob)).toFixed(1)
      } | ${pg.length ? median(pg).toFixed(1) : "-"}`,
    );
  }
}
const out = args.out ??
  `bench-results/${new Date().toISOString().replace(/[:.]/g, "-")}-scale-${THIS_RUNTIME}.json`;
mkdirSync(out.slice(0, Math.max(0, out.lastIndexOf("/"))) || ".", { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), jobs, mode, rows }, null, 2));
log(`results written to ${out}`);
