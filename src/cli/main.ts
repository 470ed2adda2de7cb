/**
 * The `spool` command line: picks the command from the first words of the
 * arguments, runs it, and maps failures to exit codes: 0 success, 1
 * failure (the database refused, a job was not found), 2 usage (a bad flag
 * or argument, named in the message; nothing was done).
 *
 * @module
 */
import { SpoolError, ValidationError } from "../errors.ts";
import { SPOOL_VERSION } from "../version.ts";
import { UsageError } from "./args.ts";
import { type Command, runCommand } from "./command.ts";
import { addCommand } from "./commands/add.ts";
import { adminCommand } from "./commands/admin.ts";
import { crontabCheckCommand } from "./commands/crontab.ts";
import {
  jobsCancelCommand,
  jobsCompleteCommand,
  jobsDeleteCommand,
  jobsFailCommand,
  jobsListCommand,
  jobsRescheduleCommand,
  jobsRetryCommand,
  jobsShowCommand,
} from "./commands/jobs.ts";
import { cleanupCommand, removeByKeyCommand } from "./commands/maintenance.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { runCommand as runWorkerCommand } from "./commands/run.ts";
import { statsCommand } from "./commands/stats.ts";
import {
  workersListCommand,
  workersSweepCommand,
  workersUnlockCommand,
} from "./commands/workers.ts";
import { type CliIo, processIo } from "./_io.ts";

/** Every command, in the order `spool --help` lists them. */
export const COMMANDS: readonly Command[] = [
  runWorkerCommand,
  migrateCommand,
  addCommand,
  jobsListCommand,
  jobsShowCommand,
  jobsRetryCommand,
  jobsCompleteCommand,
  jobsFailCommand,
  jobsCancelCommand,
  jobsRescheduleCommand,
  jobsDeleteCommand,
  removeByKeyCommand,
  workersListCommand,
  workersSweepCommand,
  workersUnlockCommand,
  cleanupCommand,
  crontabCheckCommand,
  statsCommand,
  adminCommand,
];

function topHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length + (c.args ? c.args.length + 1 : 0)));
  const lines = commands.map((c) =>
    `  ${(c.name + (c.args ? ` ${c.args}` : "")).padEnd(width)}  ${c.summary}`
  );
  return [
    "Usage: spool <command> [options]",
    "",
    "Spool: a PostgreSQL job queue for Deno and Bun (graphile-worker's schema).",
    "",
    "Commands:",
    ...lines,
    "",
    "Every command takes --help. Database commands take --database URL (or DATABASE_URL),",
    "--schema NAME (or SPOOL_SCHEMA) and --config FILE (or SPOOL_CONFIG); flags win over the",
    "environment, which wins over the config module. Exit codes: 0 ok, 1 failure, 2 usage.",
    "",
  ].join("\n");
}

/** Find the command named by the first one or two words; returns it and the rest. */
function pick(
  commands: readonly Command[],
  argv: readonly string[],
): { command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const command = commands.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

/**
 * Run the CLI with `argv` (the arguments after the program name); resolves
 * to the exit code. Writes only through `io`.
 *
 * @example
 * ```ts ignore
 * import { main } from "@spool/worker/cli";
 * const code = await main(["stats", "--json"]);
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const commands = COMMANDS;
  const [first] = argv;
  if (first === undefined) {
    // A usage error: help goes to stderr, so a script piping stdout sees nothing.
    io.err(topHelp(commands));
    return 2;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    io.out(topHelp(commands));
    return 0;
  }
  if (first === "--version" || first === "-V") {
    io.out(`spool ${SPOOL_VERSION}\n`);
    return 0;
  }
  const found = pick(commands, argv);
  if (!found) {
    const group = commands.filter((c) => c.name.startsWith(`${first} `));
    if (group.length > 0) {
      io.err(
        `spool: ${first} needs a subcommand: ${
          group.map((c) => c.name.split(" ")[1]).join(", ")
        }\n`,
      );
      if (argv.includes("--help") || argv.includes("-h")) {
        io.err("");
        io.out(topHelp(group));
        return 0;
      }
    } else io.err(`spool: unknown command "${first}" (see spool --help)\n`);
    return 2;
  }
  try {
    return await runCommand(found.command, found.rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`spool ${found.command.name}: ${error.message}\n`);
      io.err(`Run spool ${found.command.name} --help for usage.\n`);
      return 2;
    }
    if (error instanceof ValidationError) {
      io.err(`spool ${found.command.name}: ${error.message}\n`);
      return 2;
    }
    const message = error instanceof SpoolError
      ? `${error.message} (${error.code})`
      : error instanceof Error
      ? error.message
      : String(error);
    io.err(`spool ${found.command.name}: error: ${message}\n`);
    return 1;
  }
}
