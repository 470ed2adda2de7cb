/**
 * Side-by-side benchmark: Spool vs graphile-worker 0.18.0 vs the SQL floor
 * (`_floor.ts`) on the same database and runtime, interleaved in one run.
 * Each (N, round, mode, system) runs in its own child process (so CPU and
 * peak RSS are per system); within a round the systems take turns going first.
 *
 *   deno task bench [--jobs 20000,200000] [--rounds 3] [--latency 200]
 *   bun scripts/bench/main.ts --jobs 2000 --latency 30 --rounds 1   # a quick smoke run
 *
 * Options: --jobs N[,N…], --batch N (addJobs batch size, 1000), --concurrency N (24),
 * --latency N (samples per gap; 0 skips latency), --gaps MS[,MS…] (0,5,12,1200),
 * --rounds N (3), --modes defaults,batched,queues, --systems floor,spool,graphile-worker,
 * --out FILE (default bench-results/<date>-<runtime>.json).
 * DATABASE_URL selects the server (default postgres://postgres@127.0.0.1:5432/test).
 * See docs/performance.md.
 */
import process from "node:process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import postgres from "postgres";
import type { ChildConfig, ChildResult } from "./child.ts";
import type { Mode } from "./_systems.ts";
import { fmt, log, parseArgs, runChild, summaryTable } from "./_report.ts";
import { loadavg } from "./_spawn.ts";

type SystemName = ChildConfig["system"];
/** A result with the run's context. */
export type Run = ChildResult & { jobs: number; round: number; load: string };

const args = parseArgs(process.argv.slice(2));
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const jobCounts = (args.jobs ?? "20000").split(",").map(Number);
const batch = Number(args.batch ?? 1_000);
const concurrency = Number(args.concurrency ?? 24);
const latencySamples = Number(args.latency ?? 200);
const latencyGaps = (args.gaps ?? "0,5,12,1200").split(",").map(Number);
const rounds = Number(args.rounds ?? 3);
const modes = (args.modes ?? "defaults,batched,queues").split(",") as Mode[];
const systems = (args.systems ?? "floor,spool,graphile-worker").split(",") as SystemName[];
const isBun = typeof (globalThis as Record<string, unknown>).Bun === "object";
const runtime = isBun ? `bun ${process.versions.bun}` : `deno ${process.versions.deno}`;
const schemas: Record<SystemName, string> = {
  "spool": "spool_bench",
  "graphile-worker": "gw_bench",
  "floor": "floor_bench",
};

const admin = postgres(url, { max: 1, onnotice: () => {} });
const [{ version }] = await admin`select current_setting('server_version') as version`;
for (const s of Object.values(schemas)) await admin.unsafe(`drop schema if exists "${s}" cascade`);

async function clear(schema: string): Promise<void> {
  // Fresh tables for every run; all systems are treated alike.
  const [{ exists }] = await admin`select to_regclass(${
    schema + "._private_jobs"
  }) is not null as exists`;
  if (exists) {
    await admin.unsafe(`truncate "${schema}"._private_jobs, "${schema}"._private_job_queues`);
  }
}

const results: Run[] = [];
log(
  `Spool vs graphile-worker 0.18.0 vs SQL floor — ${runtime}, ${cpus().length} CPU(s), ` +
    `PostgreSQL ${version}; N = ${jobCounts.join(", ")} (addJobs × ${batch}), concurrency ` +
    `${concurrency}, ${latencySamples} latency samples per gap (${latencyGaps.join(", ")} ms), ` +
    `${rounds} round(s); load ${loadavg()}`,
);
for (const jobs of jobCounts) {
  for (let round = 0; round < rounds; round++) {
    for (const [m, mode] of modes.entries()) {
      // The floor has no modes: it runs once per round (with the batched mode's data).
      const here = systems.filter((s) => s !== "floor" || mode === "batched");
      // Rotate which system goes first, so none always runs on a warmer (or busier) machine.
      const k = (round + m) % here.length;
      const order = [...here.slice(k), ...here.slice(0, k)];
      for (const system of order) {
        await clear(schemas[system]);
        const load = loadavg();
        // Latency does not depend on N: measured at the first N only, and not in the queues mode.
        const withLatency = system !== "floor" && mode !== "queues" && jobs === jobCounts[0];
        const r = await runChild({
          system,
          mode,
          url,
          schema: schemas[system],
          jobs,
          batch,
          concurrency,
          latencySamples: withLatency ? latencySamples : 0,
          latencyGaps,
        }, isBun);
        results.push({ ...r, jobs, round, load });
        const lat = r.latencyMs[String(latencyGaps[0])];
        log(
          `  N ${jobs} round ${round + 1} ${mode.padEnd(8)} ${system.padEnd(15)} ` +
            `insert ${fmt(r.insertJobsPerSec)}/s  process ${fmt(r.processJobsPerSec)}/s  ` +
            `client ${r.clientCpuUsPerJob.toFixed(1)} µs/job  PG ${
              r.backendCpuUsPerJob?.toFixed(1) ?? "-"
            } µs/job` +
            (lat ? `  p50 ${lat.p50.toFixed(2)} ms  max ${lat.max.toFixed(2)} ms` : "") +
            `  [load ${load}]` + (r.stalled ? `  STALLED: ${r.stalled}` : ""),
        );
      }
    }
  }
}
for (const s of Object.values(schemas)) await admin.unsafe(`drop schema if exists "${s}" cascade`);
await admin.end();

const { text, summary } = summaryTable(results, { jobCounts, modes, latencyGaps });
log(text);

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
      settings: { jobCounts, batch, concurrency, latencySamples, latencyGaps, rounds, modes },
      summary,
      runs: results,
    },
    null,
    2,
  ),
);
log(`results written to ${out}`);
