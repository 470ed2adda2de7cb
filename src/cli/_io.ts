/**
 * The CLI's contact with its process: output streams, terminal detection,
 * environment, working directory. Through `node:process`, which Deno and Bun
 * both provide, so the CLI needs no runtime-specific globals.
 *
 * @module
 */
import process from "node:process";

/** What a command reads from and writes to. */
export interface CliIo {
  /** Write to standard output. */
  out(text: string): void;
  /** Write to standard error. */
  err(text: string): void;
  /** Whether standard output is a terminal (tables and progress bars then). */
  readonly stdoutIsTty: boolean;
  /** Whether standard error is a terminal. */
  readonly stderrIsTty: boolean;
  /** An environment variable, or undefined. */
  env(name: string): string | undefined;
  /** The working directory (paths on the command line are relative to it). */
  cwd(): string;
}

/** The real process. */
export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    env: (name) => {
      try {
        return process.env[name];
      } catch {
        return undefined; // Deno without --allow-env
      }
    },
    cwd: () => process.cwd(),
  };
}
