/**
 * `spool cleanup` and `spool remove-by-key`.
 *
 * @module
 */
import type { CleanupTask } from "../../utils/types.ts";
import { toList, UsageError } from "../args.ts";
import type { Command } from "../command.ts";
import { JOB_HEADERS, jobJson, jobRow, printJson, table } from "../output.ts";

const TASKS: Record<string, CleanupTask> = {
  "gc-job-queues": "GC_JOB_QUEUES",
  "gc-task-identifiers": "GC_TASK_IDENTIFIERS",
  "delete-permafailed-jobs": "DELETE_PERMAFAILED_JOBS",
};

/** `spool cleanup`. */
export const cleanupCommand: Command = {
  name: "cleanup",
  summary: "Delete unused queues, task identifiers, or permanently failed jobs",
  description: `Tasks: ${Object.keys(TASKS).join(", ")} (graphile-worker's names work too). ` +
    "Without --task, only gc-job-queues runs. gc-task-identifiers is unsafe while workers run " +
    "unless their tasks are kept with --keep.",
  db: true,
  json: true,
  flags: {
    task: {
      type: "string",
      multiple: true,
      value: "TASK",
      help: "what to clean (repeat or comma-separate)",
    },
    keep: {
      type: "string",
      multiple: true,
      value: "ID",
      help: "task identifiers gc-task-identifiers keeps",
    },
  },
  examples: ["cleanup", "cleanup --task delete-permafailed-jobs,gc-job-queues"],
  async run(ctx) {
    const names = toList(ctx.flags.task ?? ["gc-job-queues"]);
    const tasks = names.map((n) => {
      const t = TASKS[n.toLowerCase()] ?? Object.values(TASKS).find((v) => v === n.toUpperCase());
      if (!t) {
        throw new UsageError(
          `--task must be one of ${Object.keys(TASKS).join(", ")} (got "${n}")`,
          "--task",
        );
      }
      return t;
    });
    const result = await (await ctx.utils()).cleanup({
      tasks,
      taskIdentifiersToKeep: toList(ctx.flags.keep ?? []),
    });
    if (ctx.json) printJson(ctx.io, result);
    else {
      ctx.io.out(
        `Deleted ${result.deletedJobs} job(s), ${result.deletedJobQueues} queue(s), ` +
          `${result.deletedTaskIdentifiers} task identifier(s).\n`,
      );
    }
    return 0;
  },
};

/** `spool remove-by-key`. */
export const removeByKeyCommand: Command = {
  name: "remove-by-key",
  summary: "Remove the job with this job key",
  description: "Deleted when no worker holds it; when one does, its key is cleared and it is not " +
    "retried. Exit code 1 when no job has the key.",
  args: "<key>",
  positionals: [1, 1],
  db: true,
  json: true,
  examples: ["remove-by-key welcome-ada"],
  async run(ctx) {
    const [key] = ctx.positionals;
    if (key === "") throw new UsageError("<key> must not be empty", "<key>");
    const job = await (await ctx.utils()).removeJob(key);
    if (!job) {
      if (ctx.json) printJson(ctx.io, { removed: null });
      else ctx.io.err(`spool: no job with key ${JSON.stringify(key)}\n`);
      return 1;
    }
    if (ctx.json) printJson(ctx.io, { removed: jobJson(job) });
    else ctx.io.out("Removed:\n" + table(JOB_HEADERS, [jobRow(job)]));
    return 0;
  },
};
