import { bunRuntime } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
import type { Runtime } from "./types.ts";

let cached: Runtime | undefined;

/**
 * The adapter for the runtime this code runs on. Computed on first call, never
 * at import time.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "@spool/worker";
 * console.log(detectRuntime().name); // "deno" or "bun"
 * ```
 */
export function detectRuntime(): Runtime {
  if (cached) return cached;
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Bun === "object" && g.Bun !== null) cached = bunRuntime();
  else if (typeof g.Deno === "object" && g.Deno !== null) cached = denoRuntime();
  else throw new Error("Spool runs on Deno 2 or Bun 1; neither was detected");
  return cached;
}
