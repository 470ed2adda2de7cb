/**
 * Side-by-side benchmark: Spool vs graphile-worker 0.18.0 on the same
 * database and runtime, interleaved in one run. Each (system, mode, round)
 * runs in its own child process (so peak RSS is per system).
 *
 *   deno task bench [--jobs 20000] [--batch 1000] [--latency 200] [--rounds 1]
 *   bun scripts/bench/main.ts --jobs 2000 --latency 30     # a quick smoke run
 *
 * Options: --jobs N, --batch N (addJobs batch size), --concurrency N (24),
 * --latency N (samples), --rounds N, --modes defaults,batched,
 * --systems spool,graphile-worker, --out FILE (default bench-results/<date>-<runtime>.json).
 * DATABASE_URL selects the server (default postgres://postgres@127.0.0.1:5432/test).
 * See docs/performance.md.
 */
import process from "node:process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import postgres from "postgres";
import type { ChildConfig, ChildResult } from "./child.ts";
import { runChild } from "./_run_child.ts";
import type { Mode } from "./_systems.ts";

type SystemName = ChildConfig["system"];

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const [k, v] = a.slice(2).split("=", 2);
    out[k] = v ?? argv[++i] ?? "";
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const jobs = Number(args.jobs ?? 20_000);
const batch = Number(args.batch ?? 1_000);
const concurrency = Number(args.concurrency ?? 24);
const latencySamples = Number(args.latency ?? 200);
const rounds = Number(args.rounds ?? 1);
const modes = (args.modes ?? "defaults,batched").split(",") as Mode[];
const systems = (args.systems ?? "spool,graphile-worker").split(",") as SystemName[];
const isBun = typeof (globalThis as Record<string, unknown>).Bun === "object";
const runtime = isBun ? `bun ${process.versions.bun}` : `deno ${process.versions.deno}`;
const schemas: Record<SystemName, string> = {
  "spool": "spool_bench",
  "graphile-worker": "gw_bench",
};
const admin = postgres(url, { max: 1, onnotice: () => {} });
const [{ version }] = await admin`select current_setting('server_version') as version`;
for (const s of Object.values(schemas)) await admin.unsafe(`drop schema if exists "${s}" cascade`);

async function clear(schema: string): Promise<void> {
  // Fresh tables for every run; both systems are treated alike.
  const [{ exists }] = await admin`select to_regclass(${
    schema + "._private_jobs"
  }) is not null as exists`;
  if (exists) {
    await admin.unsafe(`truncate "${schema}"._private_jobs, "${schema}"._private_job_queues`);
  }
}

const results: ChildResult[] = [];
log(
  `Spool vs graphile-worker 0.18.0 — ${runtime}, ${cpus().length} CPU(s), PostgreSQL ${version}; ` +
    `${jobs} jobs (addJobs × ${batch}), concurrency ${concurrency}, ${latencySamples} latency samples, ` +
    `${rounds} round(s)`,
);
for (let round = 0; round < rounds; round++) {
  for (const mode of modes) {
    // Alternate which system goes first, so neither always runs on a warmer machine.
    const order = (round + modes.indexOf(mode)) % 2 === 0 ? systems : [...systems].reverse();
    for (const system of order) {
      await clear(schemas[system]);
      const r = await runChild({
        system,
        mode,
        url,
        schema: schemas[system],
        jobs,
        batch,
        concurrency,
        latencySamples,
      });
      results.push(r);
      log(
        `  round ${round + 1} ${mode.padEnd(8)} ${system.padEnd(15)} ` +
          `insert ${fmt(r.insertJobsPerSec)}/s  process ${fmt(r.processJobsPerSec)}/s  ` +
          `p50 ${r.latencyMs.p50.toFixed(2)} ms  max ${r.latencyMs.max.toFixed(2)} ms` +
          (r.stalled ? `  STALLED: ${r.stalled}` : ""),
      );
    }
  }
}
for (const s of Object.values(schemas)) await admin.unsafe(`drop schema if exists "${s}" cascade`);
await admin.end();

// Summary: medians over rounds.
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
type Metric = { label: string; get: (r: ChildResult) => number | null; better: "higher" | "lower" };
const metrics: Metric[] = [
  { label: "insert jobs/s", get: (r) => r.insertJobsPerSec, better: "higher" },
  { label: "process jobs/s", get: (r) => r.processJobsPerSec, better: "higher" },
  { label: "latency p50 ms", get: (r) => r.latencyMs.p50, better: "lower" },
  { label: "latency p90 ms", get: (r) => r.latencyMs.p90, better: "lower" },
  { label: "latency p99 ms", get: (r) => r.latencyMs.p99, better: "lower" },
  { label: "latency max ms", get: (r) => r.latencyMs.max, better: "lower" },
  { label: "client CPU µs/job", get: (r) => r.clientCpuUsPerJob, better: "lower" },
  { label: "PG backend CPU µs/job", get: (r) => r.backendCpuUsPerJob, better: "lower" },
  { label: "peak RSS MiB", get: (r) => r.peakRssMiB, better: "lower" },
];
const summary: Record<string, Record<string, Record<string, number | null>>> = {};
const lines: string[] = [];
const head = `${"metric".padEnd(24)}${"spool".padStart(12)}${"graphile".padStart(12)}${
  "ratio".padStart(9)
}`;
for (const mode of modes) {
  summary[mode] = {};
  lines.push("", `mode: ${mode}`, head, "-".repeat(head.length));
  for (const m of metrics) {
    const value = (system: SystemName) => {
      const xs = results.filter((r) => r.system === system && r.mode === mode).map(m.get);
      return xs.some((x) => x === null) || xs.length === 0 ? null : median(xs as number[]);
    };
    const a = value("spool");
    const b = value("graphile-worker");
    const ratio = a !== null && b !== null && b !== 0 ? a / b : null;
    summary[mode][m.label] = { spool: a, graphile: b, ratio };
    lines.push(
      `${m.label.padEnd(24)}${num(a).padStart(12)}${num(b).padStart(12)}${
        (ratio === null ? "-" : ratio.toFixed(2) + "×").padStart(9)
      }`,
    );
  }
}
log(lines.join("\n"));
log("\nratio = Spool / graphile-worker (medians over rounds)");

const out = args.out ??
  `bench-results/${new Date().toISOString().replace(/[:.]/g, "-")}-${isBun ? "bun" : "deno"}.json`;
mkdirSync(out.slice(0, Math.max(0, out.lastIndexOf("/"))) || ".", { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      runtime,
      host: hostname(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      postgres: version,
      settings: { jobs, batch, concurrency, latencySamples, rounds, modes },
      summary,
      runs: results,
    },
    null,
    2,
  ),
);
log(`results written to ${out}`);

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
function num(n: number | null): string {
  if (n === null) return "-";
  return n >= 100 ? fmt(n) : n.toFixed(2);
}
function log(s: string): void {
  // deno-lint-ignore no-console
  console.log(s);
}
