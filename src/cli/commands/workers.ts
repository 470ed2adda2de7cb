/**
 * `spool workers list|sweep|unlock`: the worker registry and dead-worker
 * recovery.
 *
 * @module
 */
import { toList, toMillis, UsageError } from "../args.ts";
import type { Command } from "../command.ts";
import { printJson, table } from "../output.ts";

const meta = (m: Record<string, unknown> | null, key: string): string | undefined =>
  m?.[key] == null ? undefined : String(m[key]);

/** `spool workers list`. */
export const workersListCommand: Command = {
  name: "workers list",
  summary: "List registered workers with their heartbeat and held jobs",
  db: true,
  json: true,
  flags: {
    threshold: { type: "string", value: "MS", help: "a heartbeat older than this is stale [5m]" },
  },
  examples: ["workers list", "workers list --threshold 2m --json"],
  async run(ctx) {
    const threshold = ctx.flags.threshold === undefined
      ? undefined
      : toMillis(ctx.flags.threshold, "--threshold", 1);
    const workers = await (await ctx.utils()).listActiveWorkers({ threshold });
    if (ctx.json) printJson(ctx.io, workers);
    else if (workers.length === 0) ctx.io.out("No registered workers.\n");
    else {
      ctx.io.out(table(
        ["ID", "HOST", "PID", "RUNTIME", "STARTED", "LAST HEARTBEAT", "STALE", "JOBS"],
        workers.map((w) => [
          w.id,
          meta(w.metadata, "hostname"),
          meta(w.metadata, "pid"),
          meta(w.metadata, "runtime"),
          w.startedAt,
          w.lastHeartbeatAt,
          w.isStale ? "yes" : "no",
          w.lockedJobs,
        ]),
      ));
    }
    return 0;
  },
};

/** `spool workers sweep`. */
export const workersSweepCommand: Command = {
  name: "workers sweep",
  summary: "Recover the jobs of workers whose heartbeat is stale",
  description: "Their jobs are unlocked (the interrupted attempt given back) and run again after " +
    "--recovery-delay; their queues are unlocked and their registrations removed.",
  db: true,
  json: true,
  flags: {
    "dry-run": { type: "boolean", help: "only report what would be recovered" },
    threshold: { type: "string", value: "MS", help: "a heartbeat older than this is dead [5m]" },
    "recovery-delay": { type: "string", value: "MS", help: "recovered jobs wait this long [30s]" },
    "sweep-unregistered": {
      type: "boolean",
      help: "also recover old locks of holders that never registered (graphile-worker)",
    },
  },
  examples: ["workers sweep --dry-run", "workers sweep --threshold 2m --recovery-delay 0"],
  async run(ctx) {
    const f = ctx.flags;
    const options = {
      dryRun: f["dry-run"] === true,
      threshold: f.threshold === undefined ? undefined : toMillis(f.threshold, "--threshold", 1),
      recoveryDelay: f["recovery-delay"] === undefined
        ? undefined
        : toMillis(f["recovery-delay"], "--recovery-delay"),
      sweepUnregistered: f["sweep-unregistered"] === true,
    };
    const result = await (await ctx.utils()).sweepStaleWorkers(options);
    if (ctx.json) printJson(ctx.io, result);
    else if (!result.swept) ctx.io.out("Another sweep is running; nothing done.\n");
    else {
      const dead = [...result.workerIds, ...result.unregisteredIds];
      const verb = result.dryRun ? "Would recover" : "Recovered";
      ctx.io.out(
        dead.length === 0
          ? "No stale workers.\n"
          : `${verb} ${result.jobIds.length} job(s) and ${result.unlockedQueues} queue(s) from ` +
            `${dead.length} worker(s): ${dead.join(", ")}\n`,
      );
    }
    return 0;
  },
};

/** `spool workers unlock`. */
export const workersUnlockCommand: Command = {
  name: "workers unlock",
  summary: "Release every job and queue held by these workers, at once",
  description: "graphile-worker's force_unlock_workers: attempts and run_at are kept. Only for " +
    "workers you know are dead; prefer spool workers sweep.",
  args: "<worker-ids…>",
  positionals: [1, 10_000],
  db: true,
  json: true,
  examples: ["workers unlock spool_worker_0a1b2c3d4e5f607182"],
  async run(ctx) {
    const ids = toList(ctx.positionals);
    if (ids.length === 0) throw new UsageError("<worker-ids…>: give at least one", "<worker-ids…>");
    await (await ctx.utils()).forceUnlockWorkers(ids);
    if (ctx.json) printJson(ctx.io, { unlocked: ids });
    else ctx.io.out(`Unlocked ${ids.length} worker id(s).\n`);
    return 0;
  },
};
