/**
 * One benchmark run of one system in its own process (so RSS is per system):
 * insert, process until the table is empty, then sequential latency samples.
 * Prints one line `BENCH_RESULT <json>`.
 *
 * Usage: child.ts '<json config>' (started by main.ts).
 */
import process from "node:process";
import { performance } from "node:perf_hooks";
import { BackendCpu, clientCpuMicros, peakRssMiB, percentile, sleep } from "./_measure.ts";
import {
  type BenchSystem,
  graphileSystem,
  INTERFERED_EXIT,
  type Mode,
  queueOf,
  spoolSystem,
} from "./_systems.ts";
import { floorSystem } from "./_floor.ts";
import type { OtelVariant } from "./_otel_variant.ts";

/** What main.ts passes. */
export interface ChildConfig {
  system: "spool" | "graphile-worker" | "floor";
  mode: Mode;
  url: string;
  schema: string;
  jobs: number;
  batch: number;
  concurrency: number;
  /** Samples per gap (0: no latency phase). */
  latencySamples: number;
  /** Spool only: run with the OTel plugin (see `otel.ts`). */
  otel?: OtelVariant;
  /** Milliseconds between a sample's start and the next add (0 = back to back). */
  latencyGaps: number[];
}

/** Latency figures of one gap, in ms. */
export interface LatencyStats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** What the child prints. */
export interface ChildResult {
  system: string;
  mode: Mode;
  insertJobsPerSec: number;
  /** A second insert after the rest, warm: Spool's `addJobsFast`, graphile-worker's `addJobs`. */
  insertFastJobsPerSec?: number;
  processJobsPerSec: number;
  processMs: number;
  clientCpuUsPerJob: number;
  backendCpuUsPerJob: number | null;
  backends: number | null;
  /** By gap (ms between samples), as a string key. */
  latencyMs: Record<string, LatencyStats>;
  peakRssMiB: number | null;
  /** Set when the system stopped making progress (then the figures cover what it did). */
  stalled?: string;
}

/** `p`, or "timeout" after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout>;
  const t = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const cfg = JSON.parse(process.argv[process.argv.length - 1]) as ChildConfig;
const short = { "spool": "spool", "graphile-worker": "gw", "floor": "floor" }[cfg.system];
const tag = `bench_${short}_${process.pid}`;
const plugins = cfg.otel && cfg.otel !== "none"
  ? [(await import("./_otel_variant.ts")).otelVariant(cfg.otel)]
  : undefined;
const sys: BenchSystem = cfg.system === "spool"
  ? spoolSystem(cfg.url, cfg.schema, tag, plugins)
  : cfg.system === "floor"
  ? await floorSystem(cfg.url, cfg.schema, tag)
  : await graphileSystem(cfg.url, cfg.schema, tag);
const probe = new BackendCpu(cfg.url, tag);

// Keeps the event loop alive: a system that stalls (waiting for a poll) must not end the process.
const keepAlive = setInterval(() => {}, 1000);

await sys.migrate();

// Insert.
const t0 = performance.now();
for (let from = 0; from < cfg.jobs; from += cfg.batch) {
  await sys.addJobs(from, Math.min(cfg.jobs, from + cfg.batch), (i) => queueOf(cfg.mode, i));
}
const insertMs = performance.now() - t0;

// Process until the table is empty.
let seen = 0;
let firstStart = 0;
let allSeen!: () => void;
const allSeenP = new Promise<void>((resolve) => (allSeen = resolve));
const cpu0 = clientCpuMicros();
await sys.startWorker(cfg.concurrency, cfg.mode, () => {
  if (seen === 0) firstStart = performance.now();
  if (++seen === cfg.jobs) allSeen();
});
/** The worker was stopped from outside: this run is void; main.ts repeats it. */
function interfered(why: string): void {
  // deno-lint-ignore no-console
  console.log(`BENCH_INTERFERED ${why}`);
  process.exit(INTERFERED_EXIT);
}
void sys.exited().then(interfered);
let stalled: string | undefined;
const deadline = Math.max(120_000, cfg.jobs * 10);
if ((await within(allSeenP, deadline)) === "timeout") {
  stalled = `processing stalled after ${seen} of ${cfg.jobs} jobs (${deadline} ms)`;
} else {
  const end = performance.now() + 30_000;
  while (!(await probe.empty(cfg.schema)) && performance.now() < end) await sleep(1);
}
const processEnd = performance.now();
const cpu1 = clientCpuMicros();
const backend = await probe.snapshot();
await within(sys.stopWorker(), 30_000);
const processMs = processEnd - firstStart;
const processed = seen;

// Latency: add -> start, sequentially, concurrency 1, for each gap between samples.
const latencyMs: Record<string, LatencyStats> = {};
if (cfg.latencySamples > 0) {
  let onStart: (() => void) | undefined;
  await sys.startWorker(1, cfg.mode, () => onStart?.());
  void sys.exited().then(interfered);
  for (const [g, gap] of cfg.latencyGaps.entries()) {
    const samples: number[] = [];
    // The first gap warms the worker up; the others need only settle into their rhythm.
    const warmup = Math.min(g === 0 ? 20 : 2, cfg.latencySamples);
    for (let n = 0; n < cfg.latencySamples + warmup; n++) {
      let b = 0;
      const started = new Promise<void>((resolve) =>
        onStart = () => {
          b = performance.now();
          resolve();
        }
      );
      const a = performance.now();
      await sys.addJob(n);
      if ((await within(started, 30_000)) === "timeout") {
        stalled = (stalled ? stalled + "; " : "") + `latency sample ${n} did not start within 30 s`;
        break;
      }
      if (n >= warmup) samples.push(b - a);
      if (gap > 0) await sleep(gap);
      else await new Promise((r) => setTimeout(r, 0)); // let the completion go out
    }
    samples.sort((x, y) => x - y);
    latencyMs[String(gap)] = {
      p50: percentile(samples, 50),
      p90: percentile(samples, 90),
      p99: percentile(samples, 99),
      max: samples[samples.length - 1],
      mean: samples.reduce((sum, x) => sum + x, 0) / samples.length,
    };
  }
  await within(sys.stopWorker(), 30_000);
}

// A second, warm insert, last, so nothing measured runs on its rows: through the no-rows bulk
// path where the system has one (Spool's addJobsFast), else its addJobs again.
let insertFastJobsPerSec: number | undefined;
if (cfg.system !== "floor") {
  const add = (sys.addJobsFast ?? sys.addJobs).bind(sys);
  const t = performance.now();
  for (let from = 0; from < cfg.jobs; from += cfg.batch) {
    await add(from, Math.min(cfg.jobs, from + cfg.batch), (i) => queueOf(cfg.mode, i));
  }
  insertFastJobsPerSec = cfg.jobs / ((performance.now() - t) / 1000);
}

const result: ChildResult = {
  system: cfg.system,
  mode: cfg.mode,
  insertJobsPerSec: cfg.jobs / (insertMs / 1000),
  insertFastJobsPerSec,
  processJobsPerSec: processed / (processMs / 1000),
  processMs,
  clientCpuUsPerJob: (cpu1 - cpu0) / cfg.jobs,
  backendCpuUsPerJob: backend ? backend.micros / cfg.jobs : null,
  backends: backend ? backend.backends : null,
  latencyMs,
  peakRssMiB: peakRssMiB(),
  stalled,
};
clearInterval(keepAlive);
await probe.close();
await sys.close();
// deno-lint-ignore no-console
console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
process.exit(0);
