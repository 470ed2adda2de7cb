/**
 * `spool run`: a long-lived worker (or `--once`), every worker option a
 * flag, optional health endpoints, and signal handling: the first
 * SIGTERM/SIGINT drains (running jobs get the grace period) and exits 0; a
 * second one stops at once (running jobs are handed back) and exits 1.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import { setTimeout as nodeSetTimeout } from "node:timers";
import { consoleLogger, type LogLevel } from "../../logger.ts";
import { detectRuntime } from "../../runtime/detect.ts";
import { serveHttp } from "../../runtime/serve.ts";
import { createWorker } from "../../worker/create_worker.ts";
import type { WorkerOptions } from "../../worker/types.ts";
import type { RecoveryOptions } from "../../recovery/options.ts";
import type { LocalQueueOptions } from "../../worker/local_queue.ts";
import {
  boolFlag,
  type FlagSpec,
  stringFlag,
  toBatchDelay,
  toBool,
  toInt,
  toList,
  toMillis,
  UsageError,
} from "../args.ts";
import type { Command, CommandContext } from "../command.ts";
import { resolvePath } from "../config.ts";
import { healthHandler } from "../health.ts";
import { loadTasks } from "../tasks_loader.ts";

/** After a second signal, exit even if handing back jobs has not finished by then. */
const FORCED_EXIT_MS = 3000;

const s = stringFlag;
const b = boolFlag;

const RUN_FLAGS: Record<string, FlagSpec> = {
  tasks: {
    ...s("PATH", "module or directory exporting task definitions", "SPOOL_TASKS"),
    short: "t",
  },
  once: b("run every job that is runnable now, then exit 0", "SPOOL_ONCE"),
  concurrency: { ...s("N", "jobs run at the same time [1]", "SPOOL_CONCURRENCY"), short: "j" },
  "poll-interval": s("MS", "time between polls when idle [2s]", "SPOOL_POLL_INTERVAL"),
  "crontab-file": s("FILE", "crontab to schedule while running", "SPOOL_CRONTAB_FILE"),
  "health-port": s("PORT", "serve /healthz and /readyz on this port", "SPOOL_HEALTH_PORT"),
  "health-host": s("HOST", "address for the health port [127.0.0.1]", "SPOOL_HEALTH_HOST"),
  "grace-period": s("MS", "running jobs get this long on shutdown [5s]", "SPOOL_GRACE_PERIOD"),
  "job-timeout": s(
    "TIME",
    'default time limit of a job: "30s", milliseconds or "none" [none]',
    "SPOOL_JOB_TIMEOUT",
  ),
  "interrupted-job-retry-delay": s(
    "MS",
    "an interrupted job waits this long [30s]",
    "SPOOL_INTERRUPTED_JOB_RETRY_DELAY",
  ),
  "max-pool-size": s("N", "database connections [10]", "SPOOL_MAX_POOL_SIZE"),
  "forbidden-flags": {
    ...s("LIST", "skip jobs with any of these flags", "SPOOL_FORBIDDEN_FLAGS"),
    multiple: true,
  },
  "use-local-time": b("compare run_at with this machine's clock", "SPOOL_USE_LOCAL_TIME"),
  "local-queue-size": s(
    "N",
    "jobs fetched ahead; 0 = off [4 × concurrency]",
    "SPOOL_LOCAL_QUEUE_SIZE",
  ),
  "local-queue-ttl": s("MS", "a fetched job is handed back after [60s]", "SPOOL_LOCAL_QUEUE_TTL"),
  "refetch-delay": s(
    "MS",
    "pause after a fetch that found (almost) nothing",
    "SPOOL_REFETCH_DELAY",
  ),
  "refetch-delay-threshold": s(
    "N",
    "a fetch of this many jobs or fewer pauses [0]",
    "SPOOL_REFETCH_DELAY_THRESHOLD",
  ),
  "refetch-delay-max-abort": s(
    "N",
    "notifications that end the pause early",
    "SPOOL_REFETCH_DELAY_MAX_ABORT",
  ),
  "complete-job-batch-delay": s(
    "MS",
    "completions wait to share a write; -1 = no wait [-1]",
    "SPOOL_COMPLETE_JOB_BATCH_DELAY",
  ),
  "fail-job-batch-delay": s(
    "MS",
    "failures wait to share a write; -1 = no wait [-1]",
    "SPOOL_FAIL_JOB_BATCH_DELAY",
  ),
  "no-recovery": b("no heartbeat, no dead-worker sweeping", "SPOOL_NO_RECOVERY"),
  "heartbeat-interval": s("MS", "heartbeat renewal [30s]", "SPOOL_HEARTBEAT_INTERVAL"),
  "stale-threshold": s("MS", "a heartbeat older than this is dead [5m]", "SPOOL_STALE_THRESHOLD"),
  "sweep-interval": s("MS", "how often to look for dead workers [1m]", "SPOOL_SWEEP_INTERVAL"),
  "recovery-delay": s("MS", "recovered jobs wait this long [30s]", "SPOOL_RECOVERY_DELAY"),
  "resilient-flags": {
    ...s("LIST", "flags of long-running jobs [infrastructure_resilient]", "SPOOL_RESILIENT_FLAGS"),
    multiple: true,
  },
  "resilient-multiplier": s(
    "N",
    "threshold multiplier for workers holding such a job [3]",
    "SPOOL_RESILIENT_MULTIPLIER",
  ),
  "sweep-unregistered": b(
    "also recover old locks of unregistered holders",
    "SPOOL_SWEEP_UNREGISTERED",
  ),
  "hook-timeout": s("MS", "time a plugin interceptor may take [5s]", "SPOOL_HOOK_TIMEOUT"),
  "log-level": s("LEVEL", "debug, info, warn or error [info]", "SPOOL_LOG_LEVEL"),
};

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** Worker options from flags and environment, on top of the config module's `worker`. */
async function workerOptions(ctx: CommandContext): Promise<WorkerOptions> {
  const v = (name: string) => ctx.value(name);
  const num = (name: string, min: number, max: number) => {
    const x = v(name);
    return x === undefined ? undefined : toInt(x.value, x.source, min, max);
  };
  const ms = (name: string, min = 0) => {
    const x = v(name);
    return x === undefined ? undefined : toMillis(x.value, x.source, min);
  };
  const bool = (name: string) => {
    const x = v(name);
    return x === undefined ? undefined : toBool(x.value, x.source);
  };
  const base = { ...ctx.config.worker } as Partial<WorkerOptions>;
  const o: Partial<WorkerOptions> & Record<string, unknown> = { ...base };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) o[key] = value;
  };
  set("concurrency", num("concurrency", 1, 10_000));
  set("pollInterval", ms("poll-interval", 1));
  set("gracePeriod", ms("grace-period"));
  set("interruptedJobRetryDelay", ms("interrupted-job-retry-delay"));
  set("maxPoolSize", num("max-pool-size", 1, 1000));
  set("useLocalTime", bool("use-local-time"));
  set("hookTimeout", ms("hook-timeout", 1));
  const timeout = v("job-timeout");
  if (timeout) {
    o.jobTimeout = String(timeout.value).trim() === "none"
      ? "none"
      : toMillis(timeout.value, timeout.source, 1);
  }
  const forbidden = v("forbidden-flags");
  if (forbidden) o.forbiddenFlags = toList(forbidden.value);
  const batch = (name: string, key: string) => {
    const x = v(name);
    if (x) o[key] = toBatchDelay(x.value, x.source);
  };
  batch("complete-job-batch-delay", "completeJobBatchDelay");
  batch("fail-job-batch-delay", "failJobBatchDelay");

  const size = num("local-queue-size", 0, 100_000);
  const ttl = ms("local-queue-ttl", 1);
  const refetch = ms("refetch-delay");
  if (size !== undefined || ttl !== undefined || refetch !== undefined) {
    const current = typeof base.localQueue === "object" ? base.localQueue : undefined;
    const concurrency = (o.concurrency as number | undefined) ?? 1;
    const lq: LocalQueueOptions = {
      ...current,
      size: size ?? current?.size ?? Math.min(500, Math.max(4, 4 * concurrency)),
    };
    if (ttl !== undefined) lq.ttl = ttl;
    if (refetch !== undefined) {
      lq.refetchDelay = {
        durationMs: refetch,
        threshold: num("refetch-delay-threshold", 0, 100_000),
        maxAbortThreshold: num("refetch-delay-max-abort", 0, 100_000),
      };
    }
    o.localQueue = lq;
  } else if (v("refetch-delay-threshold") || v("refetch-delay-max-abort")) {
    throw new UsageError(
      "--refetch-delay-threshold and --refetch-delay-max-abort need --refetch-delay",
      "--refetch-delay",
    );
  }

  const recovery: RecoveryOptions = { ...base.recovery };
  const rset = (key: keyof RecoveryOptions, value: unknown) => {
    if (value !== undefined) (recovery as Record<string, unknown>)[key] = value;
  };
  if (bool("no-recovery")) recovery.enabled = false;
  rset("heartbeatInterval", ms("heartbeat-interval", 1));
  rset("staleThreshold", ms("stale-threshold", 1));
  rset("sweepInterval", ms("sweep-interval", 1));
  rset("recoveryDelay", ms("recovery-delay"));
  rset("sweepUnregistered", bool("sweep-unregistered"));
  const resilient = v("resilient-flags");
  if (resilient) recovery.resilientFlags = toList(resilient.value);
  rset("resilientMultiplier", num("resilient-multiplier", 1, 1000));
  if (Object.keys(recovery).length > 0) o.recovery = recovery;

  const crontab = v("crontab-file");
  if (crontab) {
    try {
      o.crontab = await readFile(resolvePath(ctx.io, String(crontab.value)), "utf8");
    } catch (error) {
      throw new UsageError(
        `${crontab.source}: cannot read ${crontab.value}: ${(error as Error).message}`,
        crontab.source,
      );
    }
  }

  const level = v("log-level");
  if (level && !LOG_LEVELS.includes(String(level.value) as LogLevel)) {
    throw new UsageError(`${level.source} must be one of ${LOG_LEVELS.join(", ")}`, level.source);
  }
  o.logger ??= consoleLogger({ scope: "spool", level: (level?.value as LogLevel) ?? "info" });

  const tasksFrom = v("tasks") ??
    (ctx.config.tasks === undefined
      ? undefined
      : { value: ctx.config.tasks, source: "config tasks" });
  if (tasksFrom === undefined) {
    throw new UsageError(
      "spool run needs --tasks PATH (or SPOOL_TASKS, or tasks in the config module)",
      "--tasks",
    );
  }
  const tasks = typeof tasksFrom.value === "string"
    ? await loadTasks(ctx.io, tasksFrom.value, tasksFrom.source)
    : tasksFrom.value as WorkerOptions["tasks"];
  return { ...o, tasks, database: ctx.database(), schema: ctx.schema() } as WorkerOptions;
}

/** `spool run`. */
export const runCommand: Command = {
  name: "run",
  summary: "Run a worker: until SIGTERM, or with --once until the queue is drained",
  description: "Durations take milliseconds or 500ms, 30s, 5m, 1h. The first SIGTERM or SIGINT " +
    "stops fetching and lets running jobs finish within --grace-period, then exits 0; a second " +
    "one aborts them at once (they are handed back to run again) and exits 1. With " +
    "--health-port, GET /healthz answers 200 while the process is alive and GET /readyz 200 " +
    "while the worker is running, the database answers, LISTEN is up and the heartbeat is " +
    "recent (503 otherwise, and while draining).",
  db: true,
  flags: RUN_FLAGS,
  examples: [
    "run --tasks ./tasks.ts --concurrency 8 --health-port 8080",
    "run --tasks ./tasks/ --once",
    "run --tasks ./tasks.ts --crontab-file ./crontab --grace-period 30s",
  ],
  async run(ctx) {
    const options = await workerOptions(ctx);
    const port = ctx.value("health-port");
    const healthPort = port === undefined ? undefined : toInt(port.value, port.source, 0, 65535);
    const host = ctx.value("health-host");
    const once = ctx.value("once");
    const runOnce = once !== undefined && toBool(once.value, once.source);
    const logger = options.logger!;
    const worker = await createWorker(options);
    const server = healthPort === undefined ? undefined : await serveHttp(healthHandler(worker), {
      port: healthPort,
      hostname: host?.value as string | undefined,
    });
    if (server) {
      logger.info(`Health checks on http://${server.hostname}:${server.port}/healthz and /readyz`);
    }
    // The worker drains on the first signal and hands jobs back on the second; this only
    // bounds how long the process may take after the second one.
    let signals = 0;
    const runtime = detectRuntime();
    const removers = (["SIGINT", "SIGTERM"] as const).map((signal) =>
      runtime.onSignal(signal, () => {
        if (++signals === 2) {
          nodeSetTimeout(() => process.exit(1), FORCED_EXIT_MS).unref();
        }
      })
    );
    try {
      if (runOnce) {
        await worker.runOnce();
        await worker.stop();
      } else {
        await worker.run();
      }
    } finally {
      await worker.stop(); // idempotent; after a failed start it releases the pool
      for (const remove of removers) remove();
      await server?.close();
    }
    return signals >= 2 ? 1 : 0;
  },
};
