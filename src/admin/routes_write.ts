/**
 * Write routes of the admin API. Every change goes through WorkerUtils (and
 * so through graphile-worker's SQL functions): jobs a worker holds are never
 * touched, and say so in `skipped`.
 *
 * @module
 */
import {
  adminJobGet,
  adminJobsIds,
  adminJobsLockState,
  withReadLimits,
} from "../sql/admin_jobs.ts";
import { workersList } from "../sql/workers.ts";
import { OPTION_KEYS } from "../utils/job_options.ts";
import type { Job, RescheduleOptions } from "../utils/types.ts";
import type { AdminContext } from "./_context.ts";
import { jobDto, utilsJobDto } from "./_dto.ts";
import { parseJobId, parseJsonFilter } from "./_filters.ts";
import { AdminHttpError, json, readJsonObject } from "./_http.ts";

/** Actions of `POST api/jobs/actions`. */
export const JOB_ACTIONS = [
  "complete",
  "delete",
  "fail",
  "run-now",
  "retry",
  "reschedule",
] as const;
type JobAction = typeof JOB_ACTIONS[number];

function invalid(field: string, message: string): AdminHttpError {
  return new AdminHttpError("validation", `${field}: ${message}`, field);
}

function allowOnly(body: Record<string, unknown>, keys: readonly string[], what: string): void {
  for (const k of Object.keys(body)) {
    if (!keys.includes(k)) {
      throw invalid(k, `unknown field for ${what}; allowed: ${keys.join(", ")}`);
    }
  }
}

function isoDate(value: unknown, field: string): Date {
  const d = typeof value === "string" && /^\d{4}-\d\d-\d\d/.test(value) ? new Date(value) : null;
  if (!d || Number.isNaN(d.getTime())) {
    throw invalid(field, "must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z");
  }
  return d;
}

/** Report a finished write to `onAction`; a failing hook is logged, never surfaced. */
async function audit(
  ctx: AdminContext,
  action: string,
  result: unknown,
  extra: { ids?: string[]; filter?: Record<string, unknown> } = {},
): Promise<void> {
  if (!ctx.opts.onAction) return;
  try {
    await ctx.opts.onAction({
      actor: ctx.principal.actor,
      role: ctx.principal.role,
      action,
      ...extra,
      result,
      at: new Date(),
    });
  } catch (e) {
    ctx.logger.error("admin onAction hook failed", { action, error: String(e) });
  }
}

const ADD_KEYS = ["taskIdentifier", "payload", ...OPTION_KEYS];

/** `POST api/jobs`: add one job (201 with the job). */
export async function postJob(ctx: AdminContext): Promise<Response> {
  const body = await readJsonObject(ctx.request, ctx.opts.maxBodyBytes);
  allowOnly(body, ADD_KEYS, "adding a job");
  if (typeof body.taskIdentifier !== "string") {
    throw invalid("taskIdentifier", "is required: the task identifier (a string)");
  }
  const { taskIdentifier, payload, runAt, ...rest } = body;
  const options = { ...rest, ...(runAt == null ? {} : { runAt: isoDate(runAt, "runAt") }) };
  const job = await ctx.utils.addRawJob(taskIdentifier, payload ?? {}, options);
  const row = await adminJobGet(ctx.db, ctx.opts.schema, job.id);
  // A worker may already have run and deleted it: answer with what was added.
  const result = row ? jobDto(row) : { ...utilsJobDto(job), state: null };
  await audit(ctx, "jobs.add", result, { ids: [job.id] });
  return json(result, 201);
}

function checkIdList(value: unknown, max: number): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid("ids", "must be a non-empty array of job ids (strings of digits)");
  }
  if (value.length > max) {
    throw invalid("ids", `at most ${max} ids per action (got ${value.length})`);
  }
  return [
    ...new Set(value.map((v, i) => {
      const id = parseJobId(v);
      if (id === null) {
        throw invalid(`ids[${i}]`, "must be a job id: a string of digits within bigint range");
      }
      return id;
    })),
  ];
}

function actionParams(action: JobAction, body: Record<string, unknown>): {
  reason?: string;
  reschedule?: RescheduleOptions;
} {
  const base = ["action", "ids", "filter", "expectedCount"];
  if (action === "fail") {
    allowOnly(body, [...base, "reason"], `action "fail"`);
    if (body.reason !== undefined && (typeof body.reason !== "string" || body.reason === "")) {
      throw invalid("reason", "must be a non-empty string");
    }
    return { reason: (body.reason as string | undefined) ?? "Marked failed from the Spool admin" };
  }
  if (action === "reschedule") {
    allowOnly(
      body,
      [...base, "runAt", "priority", "attempts", "maxAttempts"],
      `action "reschedule"`,
    );
    const r: RescheduleOptions = {};
    if (body.runAt != null) r.runAt = isoDate(body.runAt, "runAt");
    for (const k of ["priority", "attempts", "maxAttempts"] as const) {
      if (body[k] != null) r[k] = body[k] as number;
    }
    if (Object.keys(r).length === 0) {
      throw invalid("runAt", "give at least one of runAt, priority, attempts, maxAttempts");
    }
    return { reschedule: r };
  }
  allowOnly(body, base, `action "${action}"`);
  return {};
}

function runAction(
  ctx: AdminContext,
  action: JobAction,
  ids: string[],
  p: { reason?: string; reschedule?: RescheduleOptions },
): Promise<Job[]> {
  const u = ctx.utils;
  switch (action) {
    case "complete":
    case "delete":
      // graphile-worker has one way to remove jobs: complete_jobs deletes the rows.
      return u.completeJobs(ids);
    case "fail":
      return u.permanentlyFailJobs(ids, p.reason);
    case "run-now":
      return u.rescheduleJobs(ids, { runAt: new Date() });
    case "retry":
      return u.rescheduleJobs(ids, { runAt: new Date(), attempts: 0 });
    case "reschedule":
      return u.rescheduleJobs(ids, p.reschedule ?? {});
  }
}

/** `POST api/jobs/actions`: act on ids, or on every job a filter matches. */
export async function postJobActions(ctx: AdminContext): Promise<Response> {
  const body = await readJsonObject(ctx.request, ctx.opts.maxBodyBytes);
  const action = body.action as JobAction;
  if (!JOB_ACTIONS.includes(action)) {
    throw invalid("action", `must be one of ${JOB_ACTIONS.join(", ")}`);
  }
  const params = actionParams(action, body);
  const max = ctx.opts.maxActionJobs;
  let ids: string[];
  let filterBody: Record<string, unknown> | undefined;
  if ((body.ids === undefined) === (body.filter === undefined)) {
    throw invalid("ids", "give either ids or filter (with expectedCount)");
  }
  if (body.ids !== undefined) {
    if (body.expectedCount !== undefined) {
      throw invalid("expectedCount", "only goes with filter");
    }
    ids = checkIdList(body.ids, max);
  } else {
    const filter = parseJsonFilter(body.filter);
    filterBody = body.filter as Record<string, unknown>;
    const expected = body.expectedCount;
    if (
      typeof expected !== "number" || !Number.isInteger(expected) || expected < 1 || expected > max
    ) {
      throw invalid(
        "expectedCount",
        `is required with filter: the number of jobs you expect it to match, 1 to ${max}`,
      );
    }
    ids = await withReadLimits(
      ctx.db,
      ctx.opts.queryTimeout,
      (tx) => adminJobsIds(tx, ctx.opts.schema, filter, max + 1),
    );
    if (ids.length !== expected) {
      throw new AdminHttpError(
        "count_mismatch",
        `the filter matches ${ids.length > max ? `more than ${max}` : ids.length} jobs, ` +
          `not the expected ${expected}; nothing was changed`,
        "expectedCount",
      );
    }
  }
  const done = await runAction(ctx, action, ids, params);
  const affected = new Set(done.map((j) => j.id));
  const rest = ids.filter((id) => !affected.has(id));
  const locks = rest.length ? await adminJobsLockState(ctx.db, ctx.opts.schema, rest) : new Map();
  const result = {
    affected: ids.filter((id) => affected.has(id)),
    skipped: rest.map((id) => ({
      id,
      reason: !locks.has(id) ? "not_found" : locks.get(id) ? "locked" : "unchanged",
    })),
  };
  await audit(ctx, `jobs.${action}`, result, { ids, filter: filterBody });
  return json(result);
}

/** `POST api/jobs/remove-by-key`: delete the job holding `key`; 409 while a worker runs it. */
export async function postRemoveByKey(ctx: AdminContext): Promise<Response> {
  const body = await readJsonObject(ctx.request, ctx.opts.maxBodyBytes);
  allowOnly(body, ["key"], "remove-by-key");
  if (typeof body.key !== "string" || body.key === "") {
    throw invalid("key", "must be a non-empty string");
  }
  const existing = await ctx.utils.getJobByKey(body.key);
  if (!existing) throw new AdminHttpError("not_found", "no job has this key");
  if (existing.lockedAt) {
    throw new AdminHttpError(
      "locked",
      `job ${existing.id} is running (locked by ${existing.lockedBy}); nothing was changed`,
    );
  }
  const removed = await ctx.utils.removeJob(body.key);
  const result = { removed: removed !== null, job: removed ? utilsJobDto(removed) : null };
  await audit(ctx, "jobs.remove-by-key", result, { ids: removed ? [removed.id] : [] });
  return json(result);
}

const MAINTENANCE_KEYS: Record<string, readonly string[]> = {
  cleanup: ["tasks", "taskIdentifiersToKeep"],
  "force-unlock": ["workerIds"],
  sweep: ["dryRun", "threshold", "recoveryDelay", "sweepUnregistered"],
  migrate: [],
};

/**
 * `cleanup`, but GC_TASK_IDENTIFIERS also keeps the task identifiers that
 * registered workers report in their metadata: a running worker caches task
 * ids, and deleting one would leave its new jobs unfetched until it restarts.
 * (Workers that never registered, e.g. graphile-worker, cannot be seen: name
 * their tasks in `taskIdentifiersToKeep`.)
 */
async function cleanupKeepingLiveTasks(
  ctx: AdminContext,
  args: Record<string, unknown>,
): Promise<unknown> {
  const tasks = args.tasks ?? ["GC_JOB_QUEUES", "GC_TASK_IDENTIFIERS"];
  const keep = args.taskIdentifiersToKeep ?? [];
  if (!Array.isArray(tasks) || !tasks.includes("GC_TASK_IDENTIFIERS") || !Array.isArray(keep)) {
    return await ctx.utils.cleanup(args);
  }
  const workers = await workersList(ctx.db, { schema: ctx.opts.schema, thresholdMs: 1 });
  const live = workers.flatMap((w) => {
    const t = w.metadata?.tasks;
    return Array.isArray(t) ? t.filter((x): x is string => typeof x === "string" && x !== "") : [];
  });
  const kept = [...new Set(live)].filter((t) => !keep.includes(t)).sort();
  const done = await ctx.utils.cleanup({ ...args, taskIdentifiersToKeep: [...keep, ...kept] });
  return { ...done, keptForWorkers: kept };
}

/** `POST api/maintenance`: cleanup, force-unlock, sweep (dry run), migrate (if allowed). */
export async function postMaintenance(ctx: AdminContext): Promise<Response> {
  const body = await readJsonObject(ctx.request, ctx.opts.maxBodyBytes);
  const action = body.action as string;
  const keys = MAINTENANCE_KEYS[action];
  if (typeof action !== "string" || !Object.hasOwn(MAINTENANCE_KEYS, action)) {
    throw invalid("action", `must be one of ${Object.keys(MAINTENANCE_KEYS).join(", ")}`);
  }
  allowOnly(body, ["action", ...keys], `maintenance "${action}"`);
  const { action: _, ...args } = body;
  let result: unknown;
  if (action === "cleanup") {
    result = await cleanupKeepingLiveTasks(ctx, args);
  } else if (action === "force-unlock") {
    if (!Array.isArray(args.workerIds) || args.workerIds.length === 0) {
      throw invalid("workerIds", "must be a non-empty array of worker ids");
    }
    await ctx.utils.forceUnlockWorkers(args.workerIds as string[]);
    result = { workerIds: args.workerIds };
  } else if (action === "sweep") {
    result = await ctx.utils.sweepStaleWorkers({ threshold: ctx.opts.staleThreshold, ...args });
  } else {
    if (!ctx.opts.allowMigrate) {
      throw new AdminHttpError(
        "forbidden",
        "migrate is off; start the admin with allowMigrate: true",
      );
    }
    result = await ctx.utils.migrate();
  }
  await audit(ctx, `maintenance.${action}`, result);
  return json(result);
}
