/**
 * Read routes of the admin API (`GET {basePath}api/...`).
 *
 * @module
 */
import { errorSqlState } from "../driver/_sqlstate.ts";
import {
  adminJobGet,
  adminJobsCount,
  adminJobsCountEstimate,
  adminJobsPage,
  withReadLimits,
} from "../sql/admin_jobs.ts";
import { adminCrontabsList, adminHealth } from "../sql/admin_overview.ts";
import { SPOOL_VERSION } from "../version.ts";
import type { AdminContext } from "./_context.ts";
import { iso, isoOrNull, jobDto } from "./_dto.ts";
import { encodeCursor, parseJobId, parseJobsQuery } from "./_filters.ts";
import { AdminHttpError, json } from "./_http.ts";
import { loadOverview, tasksAndQueues, workersAndHolders } from "./_overview.ts";

/** `GET api/health`: the database answers and the schema is migrated. */
export async function getHealth(ctx: AdminContext): Promise<Response> {
  try {
    const migration = await adminHealth(ctx.db, ctx.opts.schema);
    return json({ status: "ok", schema: ctx.opts.schema, migration, version: SPOOL_VERSION });
  } catch (e) {
    ctx.logger.error("admin health check failed", { error: String(e) });
    throw new AdminHttpError("unavailable", "the database is not reachable or not migrated");
  }
}

/** `GET api/session`: who the caller is and what they may do. */
export function getSession(ctx: AdminContext): Promise<Response> {
  const { principal, opts } = ctx;
  return Promise.resolve(json({
    actor: principal.actor,
    role: principal.role,
    readOnly: opts.readOnly,
    canWrite: principal.role === "admin" && !opts.readOnly,
    allowMigrate: opts.allowMigrate,
    schema: opts.schema,
    version: SPOOL_VERSION,
    basePath: opts.basePath,
    maxPageSize: opts.maxPageSize,
    maxActionJobs: opts.maxActionJobs,
  }));
}

/** `GET api/overview`. */
export async function getOverview(ctx: AdminContext): Promise<Response> {
  return json(await loadOverview(ctx));
}

/** `GET api/jobs`: filtered keyset pages. */
export async function getJobs(ctx: AdminContext): Promise<Response> {
  const { filter, page } = parseJobsQuery(ctx.url.searchParams, ctx.opts.maxPageSize);
  const { schema } = ctx.opts;
  const rows = await withReadLimits(
    ctx.db,
    ctx.opts.queryTimeout,
    (tx) => adminJobsPage(tx, schema, filter, { ...page, limit: page.limit + 1 }),
  );
  const more = rows.length > page.limit;
  // The extra row is the one furthest from the cursor: first row for "prev", last for "next".
  const shown = more ? (page.direction === "next" ? rows.slice(0, -1) : rows.slice(1)) : rows;
  const first = shown[0];
  const last = shown[shown.length - 1];
  const forward = page.direction === "next";
  const nextCursor = last && (forward ? more : page.cursorId !== null)
    ? encodeCursor(String(last.id), page.order)
    : null;
  const prevCursor = first && (forward ? page.cursorId !== null : more)
    ? encodeCursor(String(first.id), page.order)
    : null;
  const body: Record<string, unknown> = { jobs: shown.map(jobDto), nextCursor, prevCursor };
  if (page.count) {
    try {
      const value = await withReadLimits(
        ctx.db,
        ctx.opts.countTimeout,
        (tx) => adminJobsCount(tx, schema, filter),
      );
      body.count = { value, estimated: false };
    } catch (e) {
      if (errorSqlState(e) !== "57014") throw e;
      body.count = { value: await adminJobsCountEstimate(ctx.db, schema, filter), estimated: true };
    }
  }
  return json(body);
}

/** `GET api/jobs/:id`. */
export async function getJob(ctx: AdminContext): Promise<Response> {
  const raw = ctx.segments[1];
  const id = parseJobId(raw);
  if (id === null) {
    throw new AdminHttpError(
      "bad_query",
      "id: must be a job id (digits within bigint range)",
      "id",
    );
  }
  const row = await adminJobGet(ctx.db, ctx.opts.schema, id);
  if (!row) throw new AdminHttpError("not_found", `job ${id} not found`);
  return json(jobDto(row));
}

/** `GET api/tasks`: task identifiers with their counts. */
export async function getTasks(ctx: AdminContext): Promise<Response> {
  const { tasks, countsMeta } = await tasksAndQueues(ctx);
  return json({ tasks, countsMeta });
}

/** `GET api/queues`: named queues, their locks and counts. */
export async function getQueues(ctx: AdminContext): Promise<Response> {
  const { queues, unqueued, countsMeta } = await tasksAndQueues(ctx);
  return json({ queues, unqueued, countsMeta });
}

/** `GET api/workers`: registered workers and unregistered lock holders. */
export async function getWorkers(ctx: AdminContext): Promise<Response> {
  return json(await workersAndHolders(ctx));
}

/** `GET api/crontabs`: `_private_known_crontabs`. */
export async function getCrontabs(ctx: AdminContext): Promise<Response> {
  const rows = await adminCrontabsList(ctx.db, ctx.opts.schema);
  return json({
    crontabs: rows.map((r) => ({
      identifier: r.identifier,
      knownSince: iso(r.known_since),
      lastExecution: isoOrNull(r.last_execution),
    })),
  });
}
