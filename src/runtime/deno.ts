import type { ChildProcess, Runtime, SpawnOptions } from "./types.ts";

/** Runtime adapter for Deno. */
export function denoRuntime(): Runtime {
  return {
    name: "deno",
    version: Deno.version.deno,
    env(name) {
      try {
        return Deno.env.get(name);
      } catch {
        return undefined; // no --allow-env: behave as unset
      }
    },
    hostname: () => {
      try {
        return Deno.hostname();
      } catch {
        return "unknown";
      }
    },
    pid: () => Deno.pid,
    onSignal(signal, fn) {
      Deno.addSignalListener(signal, fn);
      return () => Deno.removeSignalListener(signal, fn);
    },
    spawn(cmd, args, options: SpawnOptions = {}): ChildProcess {
      const child = new Deno.Command(cmd, {
        args: [...args],
        env: options.env,
        cwd: options.cwd,
        stdin: options.stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
        signal: options.signal,
      }).spawn();
      if (options.stdin !== undefined) {
        const writer = child.stdin.getWriter();
        writer.write(new TextEncoder().encode(options.stdin)).then(() => writer.close()).catch(
          () => {},
        );
      }
      return {
        pid: child.pid,
        kill: (sig = "SIGTERM") => {
          try {
            child.kill(sig);
          } catch { /* already exited */ }
        },
        status: child.output().then((out) => ({
          code: out.code,
          stdout: new TextDecoder().decode(out.stdout),
          stderr: new TextDecoder().decode(out.stderr),
        })),
      };
    },
  };
}
