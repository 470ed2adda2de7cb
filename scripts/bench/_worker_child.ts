/**
 * A long-running worker process for the sustained-load and scale-out
 * benchmarks (sustained.ts, scale.ts): starts one worker of a system, prints
 * `READY`, records every job start, and on a line `STOP` on stdin stops and
 * prints `RESULT <json>`.
 *
 * Jobs carry `{ i, t }` where `t` is the absolute time (ms, performance.timeOrigin
 * + performance.now()) at which the producer started adding them, so
 * add → start is measured across processes on one machine.
 *
 * Usage: _worker_child.ts '<json WorkerChildConfig>'
 */
import process from "node:process";
import { performance } from "node:perf_hooks";
import { clientCpuMicros } from "./_measure.ts";
import { type BenchSystem, graphileSystem, type Mode, spoolSystem } from "./_systems.ts";

/** What the parent passes. */
export interface WorkerChildConfig {
  system: "spool" | "graphile-worker";
  mode: Mode;
  url: string;
  schema: string;
  concurrency: number;
  /** application_name of the worker's connections (the parent reads their CPU). */
  tag: string;
  /** Bucket width (ms) of the start histogram. */
  bucketMs: number;
}

/** What the child prints. */
export interface WorkerChildResult {
  runtime: string;
  started: number;
  /** Absolute ms of the first and last job start. */
  firstStart: number;
  lastStart: number;
  /** add → start of every job, ms (sorted). */
  latencies: number[];
  /** Job starts per absolute bucket (floor(abs / bucketMs)) → [count, worst latency]. */
  buckets: Record<string, [number, number]>;
  clientCpuMicros: number;
}

const cfg = JSON.parse(process.argv[process.argv.length - 1]) as WorkerChildConfig;
const isBun = typeof (globalThis as Record<string, unknown>).Bun === "object";
const abs = () => performance.timeOrigin + performance.now();
const sys: BenchSystem = cfg.system === "spool"
  ? spoolSystem(cfg.url, cfg.schema, cfg.tag)
  : await graphileSystem(cfg.url, cfg.schema, cfg.tag);

const latencies: number[] = [];
const buckets = new Map<number, [number, number]>();
let firstStart = 0;
let lastStart = 0;
let cpu0 = clientCpuMicros();
await sys.startWorker(cfg.concurrency, cfg.mode, (_i, t) => {
  const now = abs();
  if (firstStart === 0) firstStart = now;
  lastStart = now;
  const lat = t === undefined ? NaN : now - t;
  latencies.push(lat);
  const b = Math.floor(now / cfg.bucketMs);
  const entry = buckets.get(b);
  if (entry) {
    entry[0]++;
    if (lat > entry[1]) entry[1] = lat;
  } else buckets.set(b, [1, lat]);
});
// deno-lint-ignore no-console
console.log("READY");

let input = "";
process.stdin.on("data", async (d) => {
  input += d;
  if (input.includes("GO") && !input.includes("STOP")) {
    cpu0 = clientCpuMicros(); // the measured phase starts now
    input = input.replace("GO", "");
  }
  if (!input.includes("STOP")) return;
  process.stdin.pause();
  const cpu = clientCpuMicros() - cpu0;
  await sys.stopWorker();
  await sys.close();
  const result: WorkerChildResult = {
    runtime: isBun ? `bun ${process.versions.bun}` : `deno ${process.versions.deno}`,
    started: latencies.length,
    firstStart,
    lastStart,
    latencies: latencies.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b),
    buckets: Object.fromEntries(buckets),
    clientCpuMicros: cpu,
  };
  // deno-lint-ignore no-console
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(0);
});
