import { hostname } from "node:os";
import type { ChildProcess, Runtime, SpawnOptions } from "./types.ts";

// Bun's globals are not in Deno's type library; describe the few we use.
interface BunSubprocess {
  pid: number;
  kill(signal?: string): void;
  exited: Promise<number>;
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
}
interface BunGlobal {
  version: string;
  env: Record<string, string | undefined>;
  spawn(options: {
    cmd: string[];
    env?: Record<string, string | undefined>;
    cwd?: string;
    stdin?: "ignore" | Blob;
    stdout: "pipe";
    stderr: "pipe";
  }): BunSubprocess;
}
interface NodeProcess {
  pid: number;
  on(event: string, fn: () => void): void;
  off(event: string, fn: () => void): void;
}

/** Runtime adapter for Bun. */
export function bunRuntime(): Runtime {
  const g = globalThis as unknown as { Bun: BunGlobal; process: NodeProcess };
  const bun = g.Bun;
  const proc = g.process;
  return {
    name: "bun",
    version: bun.version,
    env: (name) => bun.env[name],
    hostname: () => hostname(),
    pid: () => proc.pid,
    onSignal(signal, fn) {
      proc.on(signal, fn);
      return () => proc.off(signal, fn);
    },
    spawn(cmd, args, options: SpawnOptions = {}): ChildProcess {
      const child = bun.spawn({
        cmd: [cmd, ...args],
        env: options.env ? { ...bun.env, ...options.env } : undefined,
        cwd: options.cwd,
        stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
        stdout: "pipe",
        stderr: "pipe",
      });
      const onAbort = () => child.kill("SIGKILL");
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const status = Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]).then(([stdout, stderr, code]) => {
        options.signal?.removeEventListener("abort", onAbort);
        return { code, stdout, stderr };
      });
      return {
        pid: child.pid,
        kill: (sig = "SIGTERM") => {
          try {
            child.kill(sig);
          } catch { /* already exited */ }
        },
        status,
      };
    },
  };
}
