/**
 * `spool jobs list|show|retry|complete|fail|cancel|reschedule|delete`.
 *
 * @module
 */
import { jobFromRow } from "../../sql/job_row.ts";
import {
  adminJobGet,
  adminJobsPage,
  JOB_STATES,
  type JobFilter,
  type JobState,
} from "../../sql/admin_jobs.ts";
import type { Job } from "../../utils/types.ts";
import { toDate, toInt, toJson, toList, UsageError } from "../args.ts";
import type { Command, CommandContext } from "../command.ts";
import { JOB_HEADERS, jobDetails, jobJson, jobRow, printJson, table } from "../output.ts";

const SMALLINT = [-32768, 32767] as const;

/** Job ids from the positional arguments; UsageError naming the bad one. */
function jobIds(ctx: CommandContext): string[] {
  const ids = toList(ctx.positionals);
  for (const id of ids) {
    if (!/^[0-9]{1,19}$/.test(id)) {
      throw new UsageError(`<ids>: ${JSON.stringify(id)} is not a job id (digits)`, "<ids>");
    }
  }
  if (ids.length === 0) throw new UsageError("<ids>: give at least one job id", "<ids>");
  return ids;
}

/** Print what an action changed; exit 1 when some ids were skipped. */
function report(
  ctx: CommandContext,
  verb: string,
  ids: readonly string[],
  jobs: readonly Job[],
): number {
  const done = new Set(jobs.map((j) => j.id));
  const skipped = ids.filter((id) => !done.has(id));
  const reason = "not found, or locked by a worker";
  if (ctx.json) {
    printJson(ctx.io, {
      affected: jobs.map((j) => j.id),
      skipped: skipped.map((id) => ({ id, reason })),
    });
  } else {
    ctx.io.out(`${verb} ${jobs.length} job(s).\n`);
    if (skipped.length > 0) {
      ctx.io.out(`Skipped ${skipped.length} (${reason}): ${skipped.join(", ")}\n`);
    }
  }
  return skipped.length > 0 ? 1 : 0;
}

const LIST_FLAGS = {
  state: {
    type: "string",
    multiple: true,
    value: "STATE",
    help: `only jobs in this state: ${JOB_STATES.join(", ")}`,
  },
  task: { type: "string", multiple: true, value: "ID", help: "only jobs of this task identifier" },
  queue: { type: "string", multiple: true, value: "NAME", help: "only jobs in this named queue" },
  key: { type: "string", multiple: true, value: "KEY", help: "only the job with this job key" },
  worker: {
    type: "string",
    multiple: true,
    value: "ID",
    help: "only jobs locked by this worker id",
  },
  id: { type: "string", multiple: true, value: "ID", help: "only these job ids" },
  "run-at-from": { type: "string", value: "WHEN", help: "run_at at or after (ISO 8601, -1h, +5m)" },
  "run-at-to": { type: "string", value: "WHEN", help: "run_at before" },
  "created-from": { type: "string", value: "WHEN", help: "created at or after" },
  "created-to": { type: "string", value: "WHEN", help: "created before" },
  payload: { type: "string", value: "JSON", help: "payload contains this JSON (@>)" },
  error: { type: "string", value: "TEXT", help: "last error contains this text (any case)" },
  after: { type: "string", value: "ID", help: "only jobs with an id above this (paging)" },
  limit: { type: "string", short: "n", value: "N", help: "at most N jobs [50]" },
} as const;

/** `spool jobs list`. */
export const jobsListCommand: Command = {
  name: "jobs list",
  summary: "List jobs, oldest first",
  description: "Filters combine (AND); a repeated filter, or a comma-separated value, matches " +
    "any of its values. States as in the admin API (see spool stats --help).",
  db: true,
  json: true,
  flags: { ...LIST_FLAGS },
  examples: ["jobs list --state failed", "jobs list --task send_email,resize --limit 10 --json"],
  async run(ctx) {
    const states = toList(ctx.flags.state ?? []);
    for (const s of states) {
      if (!(JOB_STATES as readonly string[]).includes(s)) {
        throw new UsageError(
          `--state must be one of ${JOB_STATES.join(", ")} (got "${s}")`,
          "--state",
        );
      }
    }
    const f = ctx.flags;
    const after = f.after as string | undefined;
    if (after !== undefined && !/^[0-9]{1,19}$/.test(after)) {
      throw new UsageError(`--after must be a job id (got "${after}")`, "--after");
    }
    const ids = toList(f.id ?? []);
    const bad = ids.find((id) => !/^[0-9]{1,19}$/.test(id));
    if (bad !== undefined) throw new UsageError(`--id must be a job id (got "${bad}")`, "--id");
    if (f.payload !== undefined) toJson(f.payload as string, "--payload");
    const date = (name: string) => f[name] === undefined ? undefined : toDate(f[name], `--${name}`);
    const filter: JobFilter = {
      states: states as JobState[],
      tasks: toList(f.task ?? []),
      queues: toList(f.queue ?? []),
      keys: toList(f.key ?? []),
      workers: toList(f.worker ?? []),
      ids,
      runAtFrom: date("run-at-from"),
      runAtTo: date("run-at-to"),
      createdFrom: date("created-from"),
      createdTo: date("created-to"),
      payload: f.payload as string | undefined,
      error: f.error as string | undefined,
    };
    const limit = f.limit === undefined ? 50 : toInt(f.limit, "--limit", 1, 10_000);
    const utils = await ctx.utils();
    const rows = await adminJobsPage(await utils.getDriver(), utils.schema, filter, {
      order: "asc",
      direction: "next",
      cursorId: after ?? null,
      limit,
    });
    if (ctx.json) printJson(ctx.io, rows.map((r) => jobJson(jobFromRow(r), r.state)));
    else if (rows.length === 0) ctx.io.out("No jobs.\n");
    else ctx.io.out(table(JOB_HEADERS, rows.map((r) => jobRow(jobFromRow(r), r.state))));
    return 0;
  },
};

/** `spool jobs show`. */
export const jobsShowCommand: Command = {
  name: "jobs show",
  summary: "Show one job with its payload",
  args: "<id>",
  positionals: [1, 1],
  db: true,
  json: true,
  examples: ["jobs show 42"],
  async run(ctx) {
    const [id] = jobIds(ctx);
    const utils = await ctx.utils();
    const row = await adminJobGet(await utils.getDriver(), utils.schema, id);
    if (!row) {
      ctx.io.err(`spool: no job with id ${id}\n`);
      return 1;
    }
    const job = jobFromRow(row);
    if (ctx.json) printJson(ctx.io, jobJson(job, row.state));
    else ctx.io.out(jobDetails(job, row.state));
    return 0;
  },
};

const IDS = { args: "<ids…>", positionals: [1, 10_000] as [number, number], db: true, json: true };

/** `spool jobs retry`. */
export const jobsRetryCommand: Command = {
  ...IDS,
  name: "jobs retry",
  summary: "Run jobs again now, with all their attempts back",
  description: "Sets run_at to now and attempts to 0, so permanently failed jobs run again. " +
    "Jobs locked by a worker are skipped (exit code 1).",
  flags: {
    "keep-attempts": { type: "boolean", help: "only set run_at to now; keep the attempt count" },
  },
  examples: [
    "jobs retry 41 42",
    "jobs list --state failed --json | jq -r '.[].id' | xargs spool jobs retry",
  ],
  async run(ctx) {
    const ids = jobIds(ctx);
    const jobs = await (await ctx.utils()).rescheduleJobs(ids, {
      runAt: new Date(),
      attempts: ctx.flags["keep-attempts"] ? undefined : 0,
    });
    return report(ctx, "Retried", ids, jobs);
  },
};

/** `spool jobs complete`. */
export const jobsCompleteCommand: Command = {
  ...IDS,
  name: "jobs complete",
  summary: "Mark jobs as done (they are deleted, as when a task succeeds)",
  description: "Jobs locked by a worker are skipped (exit code 1).",
  examples: ["jobs complete 42"],
  async run(ctx) {
    const ids = jobIds(ctx);
    return report(ctx, "Completed", ids, await (await ctx.utils()).completeJobs(ids));
  },
};

/** `spool jobs delete`. */
export const jobsDeleteCommand: Command = {
  ...IDS,
  name: "jobs delete",
  summary: "Delete jobs without running them",
  description: "Removes the rows (graphile-worker's complete_jobs); jobs locked by a worker are " +
    "skipped (exit code 1). To remove a job by its key, see spool remove-by-key.",
  examples: ["jobs delete 42 43"],
  async run(ctx) {
    const ids = jobIds(ctx);
    return report(ctx, "Deleted", ids, await (await ctx.utils()).completeJobs(ids));
  },
};

/** `spool jobs fail`. */
export const jobsFailCommand: Command = {
  ...IDS,
  name: "jobs fail",
  summary: "Fail jobs permanently (no more attempts)",
  flags: { reason: { type: "string", value: "TEXT", help: "stored as the jobs' last error" } },
  examples: ['jobs fail 42 --reason "customer cancelled"'],
  async run(ctx) {
    const ids = jobIds(ctx);
    const reason = ctx.flags.reason as string | undefined;
    if (reason === "") throw new UsageError("--reason must not be empty", "--reason");
    return report(ctx, "Failed", ids, await (await ctx.utils()).permanentlyFailJobs(ids, reason));
  },
};

/** `spool jobs cancel`. */
export const jobsCancelCommand: Command = {
  ...IDS,
  name: "jobs cancel",
  summary: "Cancel jobs: waiting ones never run, running ones are stopped by their worker",
  description: 'A waiting job is failed permanently with "cancelled: <reason>". For a job a ' +
    "worker holds, its worker is told (NOTIFY) and aborts it; it then ends failed, never retried. " +
    "Ids that are neither (finished, or not found) are skipped (exit code 1).",
  flags: { reason: { type: "string", value: "TEXT", help: 'stored as "cancelled: TEXT"' } },
  examples: ['jobs cancel 42 --reason "order withdrawn"'],
  async run(ctx) {
    const ids = jobIds(ctx);
    const reason = ctx.flags.reason as string | undefined;
    if (reason === "") throw new UsageError("--reason must not be empty", "--reason");
    const { cancelled, running } = await (await ctx.utils()).cancelJobs(ids, { reason });
    const reached = new Set([...cancelled, ...running]);
    const skipped = ids.filter((id) => !reached.has(id));
    if (ctx.json) {
      printJson(ctx.io, {
        cancelled,
        running,
        skipped: skipped.map((id) => ({ id, reason: "not found, or already finished" })),
      });
    } else {
      ctx.io.out(`Cancelled ${cancelled.length} waiting job(s).\n`);
      if (running.length > 0) {
        ctx.io.out(
          `Asked the workers of ${running.length} running job(s) to stop: ${running.join(", ")}\n`,
        );
      }
      if (skipped.length > 0) {
        ctx.io.out(
          `Skipped ${skipped.length} (not found, or already finished): ${skipped.join(", ")}\n`,
        );
      }
    }
    return skipped.length > 0 ? 1 : 0;
  },
};

/** `spool jobs reschedule`. */
export const jobsRescheduleCommand: Command = {
  ...IDS,
  name: "jobs reschedule",
  summary: "Change when and how jobs run",
  flags: {
    "run-at": { type: "string", value: "WHEN", help: "ISO 8601 date or a delay (+30s, +5m, +1h)" },
    priority: { type: "string", value: "N", help: "new priority (lower runs first)" },
    attempts: { type: "string", value: "N", help: "new attempt count (0 gives all attempts back)" },
    "max-attempts": { type: "string", value: "N", help: "new attempt limit" },
  },
  examples: ["jobs reschedule 42 --run-at +1h", "jobs reschedule 42 43 --priority=-5"],
  async run(ctx) {
    const ids = jobIds(ctx);
    const f = ctx.flags;
    if (
      f["run-at"] === undefined && f.priority === undefined && f.attempts === undefined &&
      f["max-attempts"] === undefined
    ) {
      throw new UsageError(
        "give at least one of --run-at, --priority, --attempts, --max-attempts",
        "--run-at",
      );
    }
    // Every flag is checked before connecting.
    const changes = {
      runAt: f["run-at"] === undefined ? undefined : toDate(f["run-at"], "--run-at"),
      priority: f.priority === undefined ? undefined : toInt(f.priority, "--priority", ...SMALLINT),
      attempts: f.attempts === undefined
        ? undefined
        : toInt(f.attempts, "--attempts", 0, SMALLINT[1]),
      maxAttempts: f["max-attempts"] === undefined
        ? undefined
        : toInt(f["max-attempts"], "--max-attempts", 1, SMALLINT[1]),
    };
    return report(ctx, "Rescheduled", ids, await (await ctx.utils()).rescheduleJobs(ids, changes));
  },
};
