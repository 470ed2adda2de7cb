/**
 * What the OTel plugin costs: Spool alone vs. Spool with `otelPlugin()` and no
 * SDK vs. with an SDK and no-op exporters, interleaved in one run (each run in
 * its own child process, batched mode). Reports insert and processing
 * throughput and client CPU per processed job, medians over rounds.
 *
 *   deno run -A scripts/bench/otel.ts [--jobs 20000] [--batch 1000] [--rounds 3]
 *   bun scripts/bench/otel.ts --jobs 5000 --rounds 1       # a quick smoke run
 *
 * DATABASE_URL selects the server (default postgres://postgres@127.0.0.1:5432/test).
 */
import process from "node:process";
import { cpus } from "node:os";
import postgres from "postgres";
import type { ChildResult } from "./child.ts";
import { runChild } from "./_report.ts";
import type { OtelVariant } from "./_otel_variant.ts";

const args: Record<string, string> = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i].startsWith("--")) args[argv[i].slice(2)] = argv[++i] ?? "";
}
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const jobs = Number(args.jobs ?? 20_000);
const batch = Number(args.batch ?? 1_000);
const rounds = Number(args.rounds ?? 3);
const schema = "spool_otel_bench";
const variants: OtelVariant[] = ["none", "no-sdk", "sdk"];
const isBun = typeof (globalThis as Record<string, unknown>).Bun === "object";

const admin = postgres(url, { max: 1, onnotice: () => {} });
await admin.unsafe(`drop schema if exists "${schema}" cascade`);
const runtime = isBun ? `bun ${process.versions.bun}` : `deno ${process.versions.deno}`;
log(
  `otelPlugin cost — ${runtime}, ${cpus().length} CPU(s); ${jobs} jobs (addJobs × ${batch}), batched mode`,
);
const results: Record<OtelVariant, ChildResult[]> = { none: [], "no-sdk": [], sdk: [] };
for (let round = 0; round < rounds; round++) {
  // Rotate the order so no variant always runs first (on a cooler machine).
  const order = variants.map((_, i) => variants[(i + round) % variants.length]);
  for (const otel of order) {
    const [{ exists }] = await admin`select to_regclass(${
      schema + "._private_jobs"
    }) is not null as exists`;
    if (exists) {
      await admin.unsafe(`truncate "${schema}"._private_jobs, "${schema}"._private_job_queues`);
    }
    const r = await runChild({
      system: "spool",
      mode: "batched",
      url,
      schema,
      jobs,
      batch,
      concurrency: 24,
      latencySamples: 20,
      latencyGaps: [0],
      otel,
    }, isBun);
    results[otel].push(r);
    log(
      `  round ${round + 1} ${otel.padEnd(7)} insert ${fmt(r.insertJobsPerSec)}/s  ` +
        `process ${fmt(r.processJobsPerSec)}/s  client CPU ${
          r.clientCpuUsPerJob.toFixed(1)
        } µs/job` +
        (r.stalled ? `  STALLED: ${r.stalled}` : ""),
    );
  }
}
await admin.unsafe(`drop schema if exists "${schema}" cascade`);
await admin.end();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const m = (v: OtelVariant, f: (r: ChildResult) => number) => median(results[v].map(f));
const base = {
  insert: m("none", (r) => r.insertJobsPerSec),
  process: m("none", (r) => r.processJobsPerSec),
  cpu: m("none", (r) => r.clientCpuUsPerJob),
};
log(
  `\n${"variant".padEnd(9)}${"insert/s".padStart(10)}${"process/s".padStart(11)}${
    "CPU µs/job".padStart(12)
  }  vs none`,
);
for (const v of variants) {
  const insert = m(v, (r) => r.insertJobsPerSec);
  const proc = m(v, (r) => r.processJobsPerSec);
  const cpu = m(v, (r) => r.clientCpuUsPerJob);
  const pct = (a: number, b: number) => `${a >= b ? "+" : ""}${((a / b - 1) * 100).toFixed(1)} %`;
  log(
    `${v.padEnd(9)}${fmt(insert).padStart(10)}${fmt(proc).padStart(11)}${
      cpu.toFixed(1).padStart(12)
    }  ` +
      (v === "none"
        ? "-"
        : `insert ${pct(insert, base.insert)}, process ${pct(proc, base.process)}, ` +
          `CPU ${pct(cpu, base.cpu)}`),
  );
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
function log(s: string): void {
  // deno-lint-ignore no-console
  console.log(s);
}
