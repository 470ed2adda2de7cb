/** Starting `_worker_child.ts` under Deno or Bun and talking to it (READY / STOP / RESULT). */
import process from "node:process";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { WorkerChildConfig, WorkerChildResult } from "./_worker_child.ts";
import type postgres from "postgres";
import { graphileSystem, spoolSystem } from "./_systems.ts";

/** Drop and recreate each system's schema, migrated by the system itself. */
export async function freshSchemas(
  admin: postgres.Sql,
  url: string,
  schemas: Record<"spool" | "graphile-worker", string>,
  systems: readonly ("spool" | "graphile-worker")[],
): Promise<void> {
  for (const system of systems) {
    await admin.unsafe(`drop schema if exists "${schemas[system]}" cascade`);
    const sys = system === "spool"
      ? spoolSystem(url, schemas[system], "bench_migrate")
      : await graphileSystem(url, schemas[system], "bench_migrate");
    await sys.migrate();
    await sys.close();
  }
}

/** A running worker child. */
export interface WorkerProcess {
  runtime: "deno" | "bun";
  /** Resolves once the worker runs. */
  ready: Promise<void>;
  /** Start the measured phase (client CPU counts from here). */
  go(): void;
  /** Stop the worker and collect its figures. */
  stop(): Promise<WorkerChildResult>;
}

/** The runtime this script runs under. */
export const THIS_RUNTIME: "deno" | "bun" =
  typeof (globalThis as Record<string, unknown>).Bun === "object" ? "bun" : "deno";

/** The other runtime's executable: an env override, else the name on PATH. */
function executable(runtime: "deno" | "bun"): string {
  if (runtime === THIS_RUNTIME) return process.execPath;
  return process.env[runtime === "deno" ? "DENO_BIN" : "BUN_BIN"] ?? runtime;
}

/** Start a worker child under `runtime`. */
export function spawnWorker(config: WorkerChildConfig, runtime: "deno" | "bun"): WorkerProcess {
  const path = fileURLToPath(new URL("./_worker_child.ts", import.meta.url));
  const argv = runtime === "bun" ? [path, JSON.stringify(config)] : [
    "run",
    "-A",
    path,
    JSON.stringify(config),
  ];
  const child = spawn(executable(runtime), argv, { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  let onReady!: () => void;
  let onFail!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => ((onReady = resolve), (onFail = reject)));
  let onResult: ((r: WorkerChildResult) => void) | undefined;
  child.stdout!.on("data", (d) => {
    out += d;
    if (out.includes("READY")) onReady();
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    if (line && out.endsWith("\n") && onResult) onResult(JSON.parse(line.slice(7)));
  });
  child.on("close", (code) => {
    if (code !== 0) onFail(new Error(`worker child (${runtime}) exited with ${code}:\n${out}`));
  });
  return {
    runtime,
    ready,
    go() {
      child.stdin!.write("GO\n");
    },
    stop() {
      return new Promise((resolve, reject) => {
        onResult = resolve;
        child.on("close", (code) => {
          if (code !== 0) reject(new Error(`worker child exited with ${code}`));
        });
        child.stdin!.write("STOP\n");
      });
    },
  };
}

/** The 1-minute load average, for the log. */
export function loadavg(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}
