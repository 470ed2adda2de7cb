/**
 * A command: its flags, help text and body. Also the context a body gets
 * (parsed flags, config, WorkerUtils) and the help renderer.
 *
 * @module
 */
import { databasePing } from "../sql/ping.ts";
import { createWorkerUtils, type WorkerUtils } from "../utils/worker_utils.ts";
import { type FlagSpec, type FlagValues, parseFlags, UsageError } from "./args.ts";
import { loadConfig, type SpoolConfig } from "./config.ts";
import type { CliIo } from "./_io.ts";

/** A command of the `spool` CLI. */
export interface Command {
  /** Words that select it, e.g. `"jobs list"`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Arguments after the name, for the usage line, e.g. `<task> [json]`. */
  args?: string;
  /** Paragraph(s) under the usage line. */
  description?: string;
  /** Positional arguments accepted: [min, max]. @default {[0, 0]} */
  positionals?: [number, number];
  /** Its own flags (the common ones are added by `db` and `json`). */
  flags?: Record<string, FlagSpec>;
  /** Takes `--database`, `--schema`, `--config`. */
  db?: boolean;
  /** Takes `--json`. */
  json?: boolean;
  /** Example invocations (without the leading `spool`). */
  examples?: string[];
  /** The body; returns the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** What a command body gets. */
export interface CommandContext {
  io: CliIo;
  /** Parsed flags (by long name). */
  flags: FlagValues;
  positionals: string[];
  /** The config module (empty without one). */
  config: SpoolConfig;
  /** `--json` was given. */
  json: boolean;
  /**
   * A flag's value, else its environment variable, else `fallback` (from the
   * config): with the source, for error messages.
   */
  value(name: string, fallback?: unknown): { value: unknown; source: string } | undefined;
  /** The database URL (flag, env, config); UsageError when there is none. */
  database(): string;
  /** The schema (flag, env, config, default). */
  schema(): string;
  /** WorkerUtils on the database and schema, connected; released after the command. */
  utils(): Promise<WorkerUtils>;
}

const DB_FLAGS: Record<string, FlagSpec> = {
  database: {
    type: "string",
    short: "d",
    value: "URL",
    help: "PostgreSQL connection URL",
    env: "DATABASE_URL",
  },
  schema: {
    type: "string",
    value: "NAME",
    help: "worker schema [graphile_worker]",
    env: "SPOOL_SCHEMA",
  },
  config: {
    type: "string",
    short: "c",
    value: "FILE",
    help: "config module (.ts/.js)",
    env: "SPOOL_CONFIG",
  },
};
const JSON_FLAG: Record<string, FlagSpec> = {
  json: { type: "boolean", help: "print JSON instead of a table" },
};
const HELP_FLAG: Record<string, FlagSpec> = {
  help: { type: "boolean", short: "h", help: "show this help" },
};

/** Every flag of `command`, common ones included. */
export function allFlags(command: Command): Record<string, FlagSpec> {
  return {
    ...command.flags,
    ...(command.json ? JSON_FLAG : {}),
    ...(command.db ? DB_FLAGS : {}),
    ...HELP_FLAG,
  };
}

/** Wrap `text` at `width` columns (on spaces). */
function wrap(text: string, width = 80): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

/** The `--help` text of a command. */
export function commandHelp(command: Command): string {
  const flags = allFlags(command);
  const lines = [`Usage: spool ${command.name}${command.args ? ` ${command.args}` : ""} [options]`];
  lines.push("", command.summary + (command.summary.endsWith(".") ? "" : "."));
  if (command.description) lines.push("", wrap(command.description));
  const rows = Object.entries(flags).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${name}${f.value ? ` ${f.value}` : ""}`;
    const right = f.help + (f.multiple ? " (repeatable)" : "") + (f.env ? ` [env ${f.env}]` : "");
    return [left, right] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length));
  lines.push("", "Options:", ...rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`));
  if (command.examples?.length) {
    lines.push("", "Examples:", ...command.examples.map((e) => `  spool ${e}`));
  }
  return lines.join("\n") + "\n";
}

/**
 * Parse `argv` for `command` and run it. Returns the exit code; usage
 * mistakes throw UsageError (the caller prints them, exit 2).
 */
export async function runCommand(
  command: Command,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const specs = allFlags(command);
  const { values, positionals } = parseFlags(argv, specs);
  if (values.help) {
    io.out(commandHelp(command));
    return 0;
  }
  const [min, max] = command.positionals ?? [0, 0];
  if (positionals.length < min) {
    throw new UsageError(
      `spool ${command.name} needs ${
        command.args ?? "an argument"
      } (see spool ${command.name} --help)`,
      command.args,
    );
  }
  if (positionals.length > max) {
    throw new UsageError(
      `spool ${command.name}: unexpected argument ${JSON.stringify(positionals[max])}`,
      positionals[max],
    );
  }
  const config = command.db ? await loadConfig(io, values.config as string | undefined) : {};
  let utils: WorkerUtils | undefined;
  const value: CommandContext["value"] = (name, fallback) => {
    const v = values[name];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) {
      return { value: v, source: `--${name}` };
    }
    const env = specs[name]?.env;
    const e = env ? io.env(env) : undefined;
    if (env && e !== undefined && e !== "") return { value: e, source: env };
    if (fallback !== undefined) return { value: fallback, source: `config ${name}` };
    return undefined;
  };
  const ctx: CommandContext = {
    io,
    flags: values,
    positionals,
    config,
    json: values.json === true,
    value,
    database() {
      const v = value("database", config.database);
      if (v === undefined || typeof v.value !== "string") {
        throw new UsageError(
          "no database: pass --database URL, set DATABASE_URL, or set database in the config module",
          "--database",
        );
      }
      if (!/^postgres(?:ql)?:\/\//i.test(v.value)) {
        throw new UsageError(`${v.source} must be a postgres:// or postgresql:// URL`, v.source);
      }
      return v.value;
    },
    schema() {
      const v = value("schema", config.schema);
      const schema = v === undefined ? "graphile_worker" : String(v.value);
      if (schema === "" || schema.length > 63) {
        throw new UsageError(`${v?.source ?? "--schema"} must be 1 to 63 characters`, v?.source);
      }
      return schema;
    },
    async utils() {
      if (utils) return utils;
      utils = createWorkerUtils({ database: ctx.database(), schema: ctx.schema(), maxPoolSize: 4 });
      // One round trip first: a fresh postgres.js connection can serialise an array parameter
      // of its very first statement as plain text ("malformed array literal") before it has
      // loaded the server's array types (seen with Deno), and the CLI's first statement often
      // has one.
      await databasePing(await utils.getDriver());
      return utils;
    },
  };
  try {
    return await command.run(ctx);
  } finally {
    await utils?.release();
  }
}
