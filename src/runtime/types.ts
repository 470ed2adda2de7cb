/**
 * The runtime seam: everything Spool needs from Deno or Bun. Nothing outside
 * `src/runtime/` and `src/driver/` touches `Deno.*`, `Bun.*` or `process`.
 *
 * @module
 */

/** A source of time. The worker and services take one so tests can fake it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Like `setTimeout`; returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
  /** Resolve after `ms`, or early (resolving, not rejecting) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Signals a worker handles for graceful shutdown. */
export type ShutdownSignal = "SIGINT" | "SIGTERM";

/** Options for {@linkcode Runtime.spawn}. */
export interface SpawnOptions {
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  /** Text written to the child's stdin, which is then closed. */
  stdin?: string;
  /** Working directory. */
  cwd?: string;
  /** Kills the child (SIGKILL) when aborted. */
  signal?: AbortSignal;
}

/** A running child process. */
export interface ChildProcess {
  /** Process id. */
  readonly pid: number;
  /** Send a signal to the child. */
  kill(signal?: "SIGINT" | "SIGTERM" | "SIGKILL"): void;
  /** Resolves when the child exits, with its output. */
  readonly status: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** What Spool needs from the JavaScript runtime. */
export interface Runtime {
  /** "deno" or "bun". */
  readonly name: "deno" | "bun";
  /** Runtime version string. */
  readonly version: string;
  /** Read an environment variable (undefined when unset or not permitted). */
  env(name: string): string | undefined;
  /** The machine's host name. */
  hostname(): string;
  /** This process's id. */
  pid(): number;
  /** Call `fn` when the process receives `signal`; returns a function that removes the handler. */
  onSignal(signal: ShutdownSignal, fn: () => void): () => void;
  /** Start a child process. */
  spawn(cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
}
