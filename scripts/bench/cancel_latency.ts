/**
 * Cancel latency across processes: a worker in a child process (`--worker
 * deno|bun`, default: the other runtime) runs a job that waits for its
 * signal; this process calls `utils.cancelJobs` and measures the time until
 * the job row shows it permanently failed ("cancelled: …").
 *
 *   deno run -A scripts/bench/cancel_latency.ts [--rounds 20] [--worker bun]
 *   bun scripts/bench/cancel_latency.ts --worker deno
 *
 * DATABASE_URL selects the server (default postgres://postgres@127.0.0.1:5432/test).
 */
import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { createWorkerUtils } from "../../src/utils/worker_utils.ts";
import { postgresJs } from "../../src/driver/postgres_js.ts";

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const self = typeof (globalThis as Record<string, unknown>).Bun === "object" ? "bun" : "deno";
const workerRuntime = arg("worker", self === "deno" ? "bun" : "deno");
const rounds = Number(arg("rounds", "20"));
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `spool_bench_cancel_${Math.random().toString(36).slice(2, 8)}`;
const s = `"${schema}"`;
const sql = postgres(url, { max: 2, onnotice: () => {} });
const utils = createWorkerUtils({ driver: postgresJs(url, { max: 2 }), schema });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error("timed out");
    await sleep(2);
  }
}

await utils.migrate();
await sql.unsafe(`create table ${s}.bench_started (job_id text)`);
const child = spawn(
  workerRuntime,
  workerRuntime === "deno"
    ? ["run", "-A", fileURLToPath(new URL("./_cancel_worker.ts", import.meta.url))]
    : [fileURLToPath(new URL("./_cancel_worker.ts", import.meta.url))],
  {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env: { ...process.env, DATABASE_URL: url, BENCH_SCHEMA: schema },
    stdio: "inherit",
  },
);
const samples: number[] = [];
try {
  for (let i = 0; i < rounds; i++) {
    const job = await utils.addRawJob("bench_cancel", {});
    await until(async () => {
      const rows = await sql.unsafe(`select 1 from ${s}.bench_started where job_id = $1`, [job.id]);
      return rows.length > 0;
    }, 60_000);
    const t0 = performance.now();
    await utils.cancelJobs([job.id], { reason: "bench" });
    await until(async () => {
      const [row] = await sql.unsafe(
        `select locked_by, attempts, max_attempts from ${s}._private_jobs where id = $1`,
        [job.id],
      );
      return row !== undefined && row.locked_by === null && row.attempts === row.max_attempts;
    }, 30_000);
    samples.push(performance.now() - t0);
  }
} finally {
  child.kill("SIGTERM");
  await sleep(500);
  await sql.unsafe(`drop schema ${s} cascade`);
  await sql.end();
  await utils.release();
  await utils.driver.close().catch(() => {});
}
samples.sort((a, b) => a - b);
const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
// deno-lint-ignore no-console
console.log(
  `cancel latency, ${self} cancelling a ${workerRuntime} worker, ${rounds} rounds: ` +
    `median ${q(0.5).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms, max ${q(1).toFixed(1)} ms`,
);
