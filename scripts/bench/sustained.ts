/**
 * Sustained load: a producer adds jobs at a fixed rate while one worker (its
 * own process) drains them; add → start latency (p50/p99/max) and the backlog
 * over time, for Spool and graphile-worker, rates and systems interleaved.
 * Writes the latency-against-rate plot to docs/sustained_latency.svg.
 *
 *   deno run -A scripts/bench/sustained.ts [--rates 1000,5000,10000,20000] [--seconds 20]
 *   bun scripts/bench/sustained.ts --seconds 3          # a quick run
 *
 * Options: --rates N[,N…] (jobs/s), --seconds S (per rate and system), --mode batched|defaults,
 * --concurrency N (24), --systems spool,graphile-worker, --target MS (p99 target, 25),
 * --svg FILE (docs/sustained_latency.svg; "-" for none), --out FILE (JSON).
 * The producer is the same for both systems: one add_jobs statement every 5 ms
 * carrying the jobs due by then (payload { i, t }, t = when the statement started).
 */
import process from "node:process";
import { mkdirSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { BackendCpu, percentile, sleep } from "./_measure.ts";
import { Producer, specJson } from "./_producer.ts";
import { fmt, log, parseArgs } from "./_report.ts";
import { freshSchemas, loadavg, spawnWorker, THIS_RUNTIME } from "./_spawn.ts";
import type { Mode } from "./_systems.ts";
import { lineChart } from "./_svg.ts";

type SystemName = "spool" | "graphile-worker";
const args = parseArgs(process.argv.slice(2));
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const rates = (args.rates ?? "1000,5000,10000,20000").split(",").map(Number);
const seconds = Number(args.seconds ?? 20);
const mode = (args.mode ?? "batched") as Mode;
const concurrency = Number(args.concurrency ?? 24);
const systems = (args.systems ?? "spool,graphile-worker").split(",") as SystemName[];
const target = Number(args.target ?? 25);
const svg = args.svg ?? "docs/sustained_latency.svg";
const BUCKET_MS = 250;
const TICK_MS = 5;
const schemas: Record<SystemName, string> = {
  "spool": "spool_sustain",
  "graphile-worker": "gw_sustain",
};
const abs = () => performance.timeOrigin + performance.now();

const admin = postgres(url, { max: 1, onnotice: () => {} });
await freshSchemas(admin, url, schemas, systems);

interface Row {
  system: SystemName;
  rate: number;
  achievedRate: number;
  added: number;
  started: number;
  p50: number;
  p99: number;
  max: number;
  maxBacklog: number;
  drainMs: number;
  backendCpuUsPerJob: number | null;
  clientCpuUsPerJob: number;
  backlog: [number, number][];
  load: string;
}
const rows: Row[] = [];

async function runOne(system: SystemName, rate: number): Promise<Row> {
  const schema = schemas[system];
  await admin.unsafe(`truncate "${schema}"._private_jobs, "${schema}"._private_job_queues`);
  const tag = `sustain_${system === "spool" ? "spool" : "gw"}_${process.pid}`;
  const load = loadavg();
  const worker = spawnWorker(
    { system, mode, url, schema, concurrency, tag, bucketMs: BUCKET_MS },
    THIS_RUNTIME,
  );
  await worker.ready;
  await sleep(1000); // LISTEN and the first (empty) fetch are done
  const probe = new BackendCpu(url, tag);
  const cpu0 = await probe.snapshot();
  const producer = new Producer(url, schema, `${tag}_producer`);
  const addedBy = new Map<number, number>();
  let added = 0;
  worker.go();
  const t0 = abs();
  const end = t0 + seconds * 1000;
  for (let next = t0; abs() < end; next += TICK_MS) {
    const now = abs();
    const due = Math.floor((rate * Math.min(now - t0, seconds * 1000)) / 1000) - added;
    if (due > 0) {
      const specs: string[] = new Array(due);
      for (let k = 0; k < due; k++) specs[k] = specJson(added + k, null, now);
      await producer.add(specs);
      added += due;
      const b = Math.floor(now / BUCKET_MS);
      addedBy.set(b, (addedBy.get(b) ?? 0) + due);
    }
    const wait = next + TICK_MS - abs();
    if (wait > 0) await sleep(wait);
  }
  const produced = abs();
  const achievedRate = added / ((produced - t0) / 1000);
  // Drain: wait until the table is empty (at most 60 s).
  while (!(await probe.empty(schema)) && abs() - produced < 60_000) await sleep(5);
  const drainMs = abs() - produced;
  const cpu1 = await probe.snapshot();
  const r = await worker.stop();
  await producer.close();
  await probe.close();
  // Backlog per bucket: added so far minus started so far.
  const keys = [...new Set([...addedBy.keys(), ...Object.keys(r.buckets).map(Number)])].sort(
    (a, b) => a - b,
  );
  let cumAdded = 0;
  let cumStarted = 0;
  const backlog: [number, number][] = [];
  for (const k of keys) {
    cumAdded += addedBy.get(k) ?? 0;
    cumStarted += r.buckets[String(k)]?.[0] ?? 0;
    backlog.push([(k * BUCKET_MS - t0) / 1000, cumAdded - cumStarted]);
  }
  return {
    system,
    rate,
    achievedRate,
    added,
    started: r.started,
    p50: percentile(r.latencies, 50),
    p99: percentile(r.latencies, 99),
    max: r.latencies[r.latencies.length - 1] ?? NaN,
    maxBacklog: Math.max(0, ...backlog.map(([, b]) => b)),
    drainMs,
    backendCpuUsPerJob: cpu0 && cpu1 ? (cpu1.micros - cpu0.micros) / added : null,
    clientCpuUsPerJob: r.clientCpuMicros / added,
    backlog,
    load,
  };
}

log(
  `Sustained load — ${THIS_RUNTIME}, mode ${mode}, concurrency ${concurrency}, ` +
    `${seconds} s per rate; rates ${rates.join(", ")} jobs/s; load ${loadavg()}`,
);
for (const [k, rate] of rates.entries()) {
  const order = k % 2 === 0 ? systems : [...systems].reverse();
  for (const system of order) {
    const row = await runOne(system, rate);
    rows.push(row);
    log(
      `  ${String(rate).padStart(6)}/s ${system.padEnd(15)} achieved ${fmt(row.achievedRate)}/s  ` +
        `p50 ${row.p50.toFixed(2)}  p99 ${row.p99.toFixed(2)}  max ${row.max.toFixed(1)} ms  ` +
        `max backlog ${fmt(row.maxBacklog)}  drain ${fmt(row.drainMs)} ms  ` +
        `client ${row.clientCpuUsPerJob.toFixed(1)} / PG ${
          row.backendCpuUsPerJob?.toFixed(1) ?? "-"
        } µs/job` +
        `  [load ${row.load}]` +
        (row.started < row.added ? `  (${row.added - row.started} not started)` : ""),
    );
  }
}
for (const system of systems) {
  await admin.unsafe(`drop schema if exists "${schemas[system]}" cascade`);
}
await admin.end();

log(
  "\nhighest rate sustained with p99 ≤ " + target +
    " ms (producer within 5 % of the rate, all jobs started):",
);
for (const system of systems) {
  const ok = rows.filter((r) =>
    r.system === system && r.p99 <= target && r.achievedRate >= 0.95 * r.rate &&
    r.started >= r.added
  );
  log(
    `  ${system.padEnd(15)} ${
      ok.length ? fmt(Math.max(...ok.map((r) => r.rate))) + " jobs/s" : "none"
    }`,
  );
}

if (svg !== "-") {
  const colors: Record<SystemName, string> = { "spool": "#1f77b4", "graphile-worker": "#d62728" };
  const series = systems.flatMap((system) => {
    const mine = rows.filter((r) => r.system === system).sort((a, b) => a.rate - b.rate);
    const name = system === "spool" ? "Spool" : "graphile-worker";
    return [
      {
        name: `${name} p50`,
        color: colors[system],
        dashed: true,
        points: mine.map((r) => [r.rate, r.p50] as [number, number]),
      },
      {
        name: `${name} p99`,
        color: colors[system],
        points: mine.map((r) => [r.rate, r.p99] as [number, number]),
      },
    ];
  });
  mkdirSync(svg.slice(0, Math.max(0, svg.lastIndexOf("/"))) || ".", { recursive: true });
  writeFileSync(
    svg,
    lineChart({
      title:
        `add → start latency under sustained load (${THIS_RUNTIME}, ${mode}, ${seconds} s per rate)`,
      xLabel: "producer rate (jobs/s)",
      yLabel: "latency (ms, log scale)",
      logY: true,
      series,
      hLine: { y: target, label: `${target} ms` },
    }),
  );
  log(`plot written to ${svg}`);
}
const out = args.out ??
  `bench-results/${new Date().toISOString().replace(/[:.]/g, "-")}-sustained-${THIS_RUNTIME}.json`;
mkdirSync(out.slice(0, Math.max(0, out.lastIndexOf("/"))) || ".", { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    { date: new Date().toISOString(), runtime: THIS_RUNTIME, mode, seconds, rows },
    null,
    2,
  ),
);
log(`results written to ${out}`);
