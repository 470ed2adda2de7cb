/** Run one benchmark child (`child.ts`) in its own process and read its `BENCH_RESULT` line. */
import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildConfig, ChildResult } from "./child.ts";

const childPath = fileURLToPath(new URL("./child.ts", import.meta.url));
const isBun = typeof (globalThis as Record<string, unknown>).Bun === "object";

/** Run `config` in a child of the current runtime. */
export function runChild(config: ChildConfig): Promise<ChildResult> {
  const argv = isBun
    ? [childPath, JSON.stringify(config)]
    : ["run", "-A", childPath, JSON.stringify(config)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
      if (code !== 0 || !line) {
        const what = config.otel ? `otel ${config.otel}` : config.mode;
        reject(new Error(`${config.system} (${what}) exited with ${code}:\n${out}`));
      } else resolve(JSON.parse(line.slice("BENCH_RESULT ".length)));
    });
  });
}
