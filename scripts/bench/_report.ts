/**
 * Benchmark plumbing shared by main.ts: argument parsing, running a child,
 * and the summary table (medians with min–max, ratios of medians).
 */
import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildConfig, ChildResult } from "./child.ts";
import type { Mode } from "./_systems.ts";

/** `--key value` / `--key=value` pairs. */
export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const [k, v] = a.slice(2).split("=", 2);
    out[k] = v ?? argv[++i] ?? "";
  }
  return out;
}

/** Run `script` (next to this file) in a child of the same runtime; returns its stdout. */
export function runScript(script: string, argv: string[], isBun: boolean): Promise<string> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const full = isBun ? [path, ...argv] : ["run", "-A", path, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, full, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`${script} exited with ${code}:\n${out}`));
      else resolve(out);
    });
  });
}

/** One benchmark child (child.ts) for `config`; repeated (up to 6 tries) if its worker was stopped from outside. */
export async function runChild(config: ChildConfig, isBun: boolean): Promise<ChildResult> {
  let out = "";
  for (let attempt = 1;; attempt++) {
    try {
      out = await runScript("./child.ts", [JSON.stringify(config)], isBun);
      break;
    } catch (error) {
      const why = /BENCH_INTERFERED (.*)/.exec(String(error))?.[1];
      if (!why || attempt >= 6) throw error;
      await new Promise((r) => setTimeout(r, 2000));
      log(`  (${config.system} ${config.mode}: ${why}; repeating the run)`);
    }
  }
  const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
  if (!line) throw new Error(`${config.system} (${config.mode}) printed no result:\n${out}`);
  return JSON.parse(line.slice("BENCH_RESULT ".length));
}

/** Median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Whole number with thousands separators. */
export function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function num(n: number | null): string {
  if (n === null) return "-";
  return n >= 100 ? fmt(n) : n.toFixed(n >= 10 ? 1 : 2);
}

/** Print a line. */
export function log(s: string): void {
  // deno-lint-ignore no-console
  console.log(s);
}

type Run = ChildResult & { jobs: number };
type Metric = { label: string; get: (r: ChildResult) => number | null | undefined };

/** A cell: median and range over rounds. */
export interface Cell {
  median: number;
  min: number;
  max: number;
  n: number;
}

function cell(xs: (number | null | undefined)[]): Cell | null {
  if (xs.length === 0 || xs.some((x) => x == null)) return null;
  const v = xs as number[];
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

function show(c: Cell | null): string {
  if (!c) return "-";
  return c.n === 1 ? num(c.median) : `${num(c.median)} (${num(c.min)}–${num(c.max)})`;
}

function ratio(a: Cell | null, b: Cell | null): string {
  return a && b && b.median !== 0 ? `${(a.median / b.median).toFixed(2)}×` : "-";
}

/** The summary: per N and mode, medians (min–max) of each system and the ratios. */
export function summaryTable(
  results: Run[],
  o: { jobCounts: number[]; modes: Mode[]; latencyGaps: number[] },
): { text: string; summary: Record<string, Record<string, Record<string, Cell | null>>> } {
  const metrics: Metric[] = [
    { label: "process jobs/s", get: (r) => r.processJobsPerSec },
    { label: "insert jobs/s", get: (r) => r.insertJobsPerSec },
    // A second, warm insert: Spool's no-rows addJobsFast against graphile-worker's addJobs.
    { label: "warm insert jobs/s (S: fast)", get: (r) => r.insertFastJobsPerSec },
    { label: "client CPU µs/job", get: (r) => r.clientCpuUsPerJob },
    { label: "PG backend CPU µs/job", get: (r) => r.backendCpuUsPerJob },
    { label: "peak RSS MiB", get: (r) => r.peakRssMiB },
  ];
  for (const gap of o.latencyGaps) {
    metrics.push(
      { label: `latency p50 ms, gap ${gap}`, get: (r) => r.latencyMs[String(gap)]?.p50 },
      { label: `latency p99 ms, gap ${gap}`, get: (r) => r.latencyMs[String(gap)]?.p99 },
      { label: `latency max ms, gap ${gap}`, get: (r) => r.latencyMs[String(gap)]?.max },
    );
  }
  const summary: Record<string, Record<string, Record<string, Cell | null>>> = {};
  const w = [26, 26, 26, 26, 8, 8, 8];
  const row = (cols: string[]) =>
    cols.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("");
  const lines: string[] = [];
  for (const jobs of o.jobCounts) {
    for (const mode of o.modes) {
      const key = `N=${jobs} ${mode}`;
      summary[key] = {};
      lines.push("", `N = ${jobs}, mode: ${mode}`);
      lines.push(row(["metric", "spool", "graphile-worker", "floor", "s/gw", "s/floor", "gw/fl"]));
      lines.push("-".repeat(w.reduce((a, b) => a + b)));
      const of = (system: string, m: Metric) =>
        cell(
          results
            .filter((r) =>
              r.jobs === jobs && r.system === system &&
              r.mode === (system === "floor" ? "batched" : mode)
            )
            .map(m.get),
        );
      for (const m of metrics) {
        const s = of("spool", m);
        const g = of("graphile-worker", m);
        const f = m.label.startsWith("latency") ? null : of("floor", m);
        if (!s && !g) continue;
        summary[key][m.label] = { spool: s, graphile: g, floor: f };
        lines.push(
          row([m.label, show(s), show(g), show(f), ratio(s, g), ratio(s, f), ratio(g, f)]),
        );
      }
    }
    const proc = (mode: Mode) =>
      cell(
        results.filter((r) => r.jobs === jobs && r.system === "spool" && r.mode === mode)
          .map((r) => r.processJobsPerSec),
      );
    if (o.modes.includes("defaults") && o.modes.includes("batched")) {
      lines.push(
        `\nN = ${jobs}: Spool defaults / Spool batched = ${
          ratio(proc("defaults"), proc("batched"))
        }`,
      );
    }
  }
  lines.push(
    "",
    "Cells: median (min–max) over rounds. Ratios are of medians; s = Spool, gw = graphile-worker,",
    "floor = graphile-worker's batch fetch (500) + DELETE … = ANY($1) on 4 connections (batched data).",
  );
  return { text: lines.join("\n"), summary };
}
