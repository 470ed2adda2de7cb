/**
 * The overview (shared by `GET api/overview` and `GET api/metrics`): counts by
 * state, per task and per queue, workers and lock holders, the oldest ready
 * job's age and the next hour's schedule.
 *
 * @module
 */
import {
  adminLockHolders,
  adminOldestReady,
  adminQueuesList,
  adminScheduleHistogram,
  adminTasksList,
} from "../sql/admin_overview.ts";
import { withReadLimits } from "../sql/admin_jobs.ts";
import { workersList } from "../sql/workers.ts";
import type { AdminContext } from "./_context.ts";
import { type CountsMeta, emptyCounts, type StateCounts } from "./_counts.ts";
import { iso, isoOrNull } from "./_dto.ts";

/** Width of one schedule bucket (5 minutes) and how many (one hour). */
export const SCHEDULE_BUCKET_MS = 300_000;
const SCHEDULE_BUCKETS = 12;

/** A registered worker in the overview. */
export interface WorkerDto {
  id: string;
  startedAt: string;
  lastHeartbeatAt: string;
  heartbeatAgeMs: number;
  isStale: boolean;
  lockedJobs: number;
  lockedQueues: number;
  metadata: Record<string, unknown> | null;
}

/** A lock holder absent from `_private_workers` (graphile-worker, or recovery off). */
export interface LockHolderDto {
  id: string;
  lockedJobs: number;
  lockedQueues: number;
  newestLockAt: string;
}

/** The overview answer. */
export interface Overview {
  now: string;
  counts: StateCounts;
  countsMeta: CountsMeta;
  tasks: Array<{ identifier: string; counts: StateCounts }>;
  queues: Array<
    { name: string; lockedAt: string | null; lockedBy: string | null; counts: StateCounts }
  >;
  /** Counts of jobs in no named queue. */
  unqueued: StateCounts;
  workers: WorkerDto[];
  unregisteredLockHolders: LockHolderDto[];
  staleThresholdMs: number;
  /** Milliseconds the longest-waiting ready job has been due, or null when none is ready. */
  oldestReadyAgeMs: number | null;
  schedule: { from: string; bucketMs: number; buckets: number[] };
}

/** Tasks and queues with their counts. */
export async function tasksAndQueues(
  ctx: AdminContext,
): Promise<Pick<Overview, "tasks" | "queues" | "unqueued" | "counts" | "countsMeta">> {
  const [counts, tasks, queues] = await Promise.all([
    ctx.counts.get(),
    adminTasksList(ctx.db, ctx.opts.schema),
    adminQueuesList(ctx.db, ctx.opts.schema),
  ]);
  return {
    counts: counts.all,
    countsMeta: counts.meta,
    tasks: tasks.map((t) => ({
      identifier: t.identifier,
      counts: counts.byTask.get(Number(t.id)) ?? emptyCounts(),
    })),
    queues: queues.map((q) => ({
      name: q.queue_name,
      lockedAt: isoOrNull(q.locked_at),
      lockedBy: q.locked_by,
      counts: counts.byQueue.get(Number(q.id)) ?? emptyCounts(),
    })),
    unqueued: counts.byQueue.get(null) ?? emptyCounts(),
  };
}

/** Registered workers and unregistered lock holders. */
export async function workersAndHolders(
  ctx: AdminContext,
): Promise<Pick<Overview, "workers" | "unregisteredLockHolders" | "staleThresholdMs">> {
  const { schema, staleThreshold } = ctx.opts;
  const [workers, holders] = await Promise.all([
    workersList(ctx.db, { schema, thresholdMs: staleThreshold }),
    adminLockHolders(ctx.db, schema),
  ]);
  const held = new Map(holders.map((h) => [h.locked_by, h]));
  const now = Date.now();
  return {
    workers: workers.map((w) => ({
      id: w.id,
      startedAt: iso(w.started_at),
      lastHeartbeatAt: iso(w.last_heartbeat_at),
      heartbeatAgeMs: Math.max(0, now - new Date(w.last_heartbeat_at).getTime()),
      isStale: w.is_stale,
      lockedJobs: Number(w.locked_jobs),
      lockedQueues: Number(held.get(w.id)?.queues ?? 0),
      metadata: w.metadata,
    })),
    unregisteredLockHolders: holders.filter((h) => !h.registered).map((h) => ({
      id: h.locked_by,
      lockedJobs: Number(h.jobs),
      lockedQueues: Number(h.queues),
      newestLockAt: iso(h.newest_lock_at),
    })),
    staleThresholdMs: staleThreshold,
  };
}

/** The whole overview. */
export async function loadOverview(ctx: AdminContext): Promise<Overview> {
  const { schema } = ctx.opts;
  const [tq, wh, oldest, histogram] = await Promise.all([
    tasksAndQueues(ctx),
    workersAndHolders(ctx),
    withReadLimits(ctx.db, ctx.opts.countTimeout, (tx) => adminOldestReady(tx, schema)),
    withReadLimits(
      ctx.db,
      ctx.opts.countTimeout,
      (tx) => adminScheduleHistogram(tx, schema, SCHEDULE_BUCKET_MS, SCHEDULE_BUCKETS),
    ),
  ]);
  const now = new Date(oldest.now);
  const buckets = new Array<number>(SCHEDULE_BUCKETS).fill(0);
  for (const b of histogram) buckets[b.bucket] += b.n;
  return {
    now: now.toISOString(),
    ...tq,
    ...wh,
    oldestReadyAgeMs: oldest.run_at === null
      ? null
      : Math.max(0, now.getTime() - new Date(oldest.run_at).getTime()),
    schedule: { from: now.toISOString(), bucketMs: SCHEDULE_BUCKET_MS, buckets },
  };
}
