/**
 * `spool add <task> [json]` and `spool add --file jobs.ndjson`: add jobs
 * with every job option. Everything is checked before the first write, so
 * a bad flag, bad JSON or a bad line adds nothing.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import { ValidationError } from "../../errors.ts";
import { normalizeJobBatch, normalizeJobOptions } from "../../utils/job_options.ts";
import type { JobKeyMode, JobOptions, RawJobSpec } from "../../utils/types.ts";
import { type FlagSpec, toDate, toInt, toJson, toList, UsageError } from "../args.ts";
import type { Command, CommandContext } from "../command.ts";
import { resolvePath } from "../config.ts";
import { JOB_HEADERS, jobJson, jobRow, printJson, progressBar, table } from "../output.ts";

const OPTION_FLAGS: Record<string, FlagSpec> = {
  queue: {
    type: "string",
    short: "q",
    value: "NAME",
    help: "named queue (its jobs run one at a time)",
  },
  "run-at": {
    type: "string",
    value: "WHEN",
    help: "earliest run: ISO 8601 date or delay (+30s, +5m)",
  },
  priority: { type: "string", value: "N", help: "lower runs first [0]" },
  "max-attempts": { type: "string", value: "N", help: "attempts before failing for good [25]" },
  key: { type: "string", value: "KEY", help: "job key: replaces or deduplicates a pending job" },
  "key-mode": { type: "string", value: "MODE", help: "replace, preserve_run_at or unsafe_dedupe" },
  flag: { type: "string", multiple: true, value: "NAME", help: "job flag (see --forbidden-flags)" },
};

// Option field → the flag that sets it, so a ValidationError names the flag.
const FLAG_OF: Record<string, string> = {
  queueName: "--queue",
  runAt: "--run-at",
  priority: "--priority",
  maxAttempts: "--max-attempts",
  jobKey: "--key",
  jobKeyMode: "--key-mode",
  flags: "--flag",
};

/** The job options given as flags (unchecked beyond their type). */
function optionsFromFlags(ctx: CommandContext): JobOptions {
  const f = ctx.flags;
  const o: JobOptions = {};
  if (f.queue !== undefined) o.queueName = f.queue as string;
  if (f["run-at"] !== undefined) o.runAt = toDate(f["run-at"], "--run-at");
  if (f.priority !== undefined) o.priority = toInt(f.priority, "--priority", -32768, 32767);
  if (f["max-attempts"] !== undefined) {
    o.maxAttempts = toInt(f["max-attempts"], "--max-attempts", 1, 32767);
  }
  if (f.key !== undefined) o.jobKey = f.key as string;
  if (f["key-mode"] !== undefined) {
    o.jobKeyMode = String(f["key-mode"]).replaceAll("-", "_") as JobKeyMode;
  }
  if (f.flag !== undefined) o.flags = toList(f.flag);
  if (o.jobKeyMode !== undefined && o.jobKey === undefined) {
    throw new UsageError("--key-mode needs --key", "--key-mode");
  }
  try {
    normalizeJobOptions(o);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const field = /options\.(\w+)/.exec(error.message)?.[1];
    const flag = (field && FLAG_OF[field]) ?? "options";
    throw new UsageError(`${flag}: ${error.message.replace(/^Invalid options\.\w+: /, "")}`, flag);
  }
  return o;
}

/** Parse one NDJSON line into a job spec; `defaults` (from flags) fill unset options. */
function specOfLine(line: string, where: string, defaults: JobOptions): RawJobSpec {
  const value = toJson(line, where) as Record<string, unknown>;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${where} must be an object {"identifier", "payload", "options"}`, where);
  }
  const identifier = value.identifier ?? value.task;
  const options = { ...defaults, ...(value.options as Record<string, unknown> | undefined) };
  if (typeof options.runAt === "string") {
    options.runAt = toDate(options.runAt, `${where} options.runAt`);
  }
  return {
    identifier: identifier as string,
    payload: value.payload ?? {},
    options: options as JobOptions,
  };
}

async function readInput(ctx: CommandContext, file: string): Promise<string> {
  if (file !== "-") return await readFile(resolvePath(ctx.io, file), "utf8");
  const chunks: Uint8Array[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Uint8Array);
  return new TextDecoder().decode(
    new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer()),
  );
}

async function addFromFile(
  ctx: CommandContext,
  file: string,
  defaults: JobOptions,
): Promise<number> {
  const size = ctx.flags["batch-size"] === undefined
    ? 1000
    : toInt(ctx.flags["batch-size"], "--batch-size", 1, 100_000);
  let text: string;
  try {
    text = await readInput(ctx, file);
  } catch (error) {
    throw new UsageError(`--file: cannot read ${file}: ${(error as Error).message}`, "--file");
  }
  const specs: RawJobSpec[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() !== "") specs.push(specOfLine(line, `--file line ${i + 1}`, defaults));
  });
  const batches: RawJobSpec[][] = [];
  for (let i = 0; i < specs.length; i += size) batches.push(specs.slice(i, i + size));
  // Check every batch before the first write.
  batches.forEach((batch, b) => {
    try {
      normalizeJobBatch(
        batch.map((s) => ({ identifier: s.identifier, payload: s.payload, options: s.options })),
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const m = /jobs\[(\d+)\]\.(\S+?):/.exec(error.message);
      const line = m ? `--file job ${b * size + Number(m[1]) + 1}` : "--file";
      throw new UsageError(`${line}: ${error.message}`, "--file");
    }
  });
  const bar = progressBar(ctx.io, "Adding jobs");
  const utils = await ctx.utils();
  let added = 0;
  for (const batch of batches) {
    added += await utils.addRawJobsFast(batch);
    bar.update(added, specs.length);
  }
  bar.end();
  if (ctx.json) printJson(ctx.io, { added, batches: batches.length });
  else ctx.io.out(`Added ${added} job(s) in ${batches.length} batch(es).\n`);
  return 0;
}

/** `spool add`. */
export const addCommand: Command = {
  name: "add",
  summary: "Add a job (or many, from an NDJSON file)",
  args: "<task> [json]",
  description: "The payload is a JSON argument (default {}). With --file, each line is a JSON " +
    'object {"identifier": "task", "payload": {…}, "options": {"queueName", "runAt", "priority", ' +
    '"maxAttempts", "jobKey", "jobKeyMode", "flags"}}; flags given on the command line are ' +
    "defaults for every line. Jobs are added in batches (one statement each); a progress bar " +
    "shows on a terminal. Nothing is added when any argument or line is bad.",
  positionals: [0, 2],
  db: true,
  json: true,
  flags: {
    ...OPTION_FLAGS,
    file: {
      type: "string",
      short: "f",
      value: "FILE",
      help: "add every job of an NDJSON file (- = stdin)",
    },
    "batch-size": { type: "string", value: "N", help: "jobs per statement with --file [1000]" },
  },
  examples: [
    `add send_email '{"to":"ada@example.com"}' --run-at +5m --key welcome-ada`,
    "add --file jobs.ndjson --queue imports",
  ],
  async run(ctx) {
    const defaults = optionsFromFlags(ctx);
    const file = ctx.flags.file as string | undefined;
    if (file !== undefined) {
      if (ctx.positionals.length > 0) {
        throw new UsageError("give either <task> [json] or --file, not both", "--file");
      }
      return await addFromFile(ctx, file, defaults);
    }
    const [task, json] = ctx.positionals;
    if (task === undefined) throw new UsageError("spool add needs <task> (or --file)", "<task>");
    const payload = json === undefined ? {} : toJson(json, "<json>");
    const job = await (await ctx.utils()).addRawJob(task, payload, defaults);
    if (ctx.json) printJson(ctx.io, jobJson(job));
    else ctx.io.out(table(JOB_HEADERS, [jobRow(job)]));
    return 0;
  },
};
