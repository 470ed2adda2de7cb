/**
 * Job counts by state (total, per task, per queue), kept cheap on big tables:
 * exact below `exactCountLimit` jobs (planner estimate), else scaled from a
 * block sample; always under a statement timeout (a timed-out exact count
 * falls back to the sample); shared by all clients for `countCacheTtl` ms.
 * Every answer says how it was obtained.
 *
 * @module
 */
import type { Driver } from "../driver/types.ts";
import { errorSqlState } from "../driver/_sqlstate.ts";
import { JOB_STATES, type JobState, withReadLimits } from "../sql/admin_jobs.ts";
import { adminJobsRelTuples, adminStateCounts } from "../sql/admin_overview.ts";

/** Counts per state plus their total. */
export type StateCounts = Record<JobState, number> & { total: number };

/** How counts were obtained. */
export interface CountsMeta {
  /** "exact" (a full count) or "sample" (scaled from a block sample). */
  source: "exact" | "sample";
  /** True when the numbers are estimates. */
  estimated: boolean;
  /** When they were computed (ISO). */
  asOf: string;
}

/** Counts in total, by task id and by queue id (null key: jobs in no queue). */
export interface CountsSnapshot {
  all: StateCounts;
  byTask: Map<number, StateCounts>;
  byQueue: Map<number | null, StateCounts>;
  meta: CountsMeta;
}

/** Zero counts. */
export function emptyCounts(): StateCounts {
  const c = { total: 0 } as StateCounts;
  for (const s of JOB_STATES) c[s] = 0;
  return c;
}

/** Settings of {@linkcode createCounts}. */
export interface CountsSettings {
  schema: string;
  exactCountLimit: number;
  countCacheTtl: number;
  countTimeout: number;
}

/** Rows a sample aims to read (fewer make per-task numbers noisy); small tables are read whole. */
const SAMPLE_TARGET_ROWS = 20_000;

/** A shared, short-lived cache of counts. */
export function createCounts(
  getDriver: () => Promise<Driver>,
  settings: CountsSettings,
): { get(): Promise<CountsSnapshot> } {
  let cached: { at: number; value: Promise<CountsSnapshot> } | undefined;

  const compute = async (): Promise<CountsSnapshot> => {
    const db = await getDriver();
    const { schema, countTimeout } = settings;
    const estimate = await adminJobsRelTuples(db, schema);
    const sample = async () => {
      const percent = Math.min(100, Math.max(0.01, (SAMPLE_TARGET_ROWS / estimate) * 100));
      const r = await withReadLimits(
        db,
        countTimeout,
        (tx) => adminStateCounts(tx, schema, percent),
      );
      // Blocks hold different numbers of rows; scale by what the sample saw, not the percent.
      return snapshot(r.rows, r.sampled > 0 ? estimate / r.sampled : 0, "sample");
    };
    if (estimate > settings.exactCountLimit) return await sample();
    try {
      const r = await withReadLimits(
        db,
        countTimeout,
        (tx) => adminStateCounts(tx, schema, null),
      );
      return snapshot(r.rows, 1, "exact");
    } catch (e) {
      if (errorSqlState(e) === "57014" && estimate > SAMPLE_TARGET_ROWS) return await sample();
      throw e;
    }
  };

  return {
    get(): Promise<CountsSnapshot> {
      const now = Date.now();
      if (cached && now - cached.at < settings.countCacheTtl) return cached.value;
      const value = compute();
      cached = { at: now, value };
      // A failure must not be served from the cache.
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
      return value;
    },
  };
}

function snapshot(
  rows: Array<{ kind: string; ref: number | null; state: JobState; n: number }>,
  scale: number,
  source: "exact" | "sample",
): CountsSnapshot {
  const all = emptyCounts();
  const byTask = new Map<number, StateCounts>();
  const byQueue = new Map<number | null, StateCounts>();
  for (const r of rows) {
    const n = Math.round(r.n * scale);
    let target: StateCounts;
    if (r.kind === "all") target = all;
    else if (r.kind === "task") {
      target = byTask.get(Number(r.ref)) ?? emptyCounts();
      byTask.set(Number(r.ref), target);
    } else {
      const key = r.ref === null ? null : Number(r.ref);
      target = byQueue.get(key) ?? emptyCounts();
      byQueue.set(key, target);
    }
    target[r.state] += n;
    target.total += n;
  }
  return {
    all,
    byTask,
    byQueue,
    meta: { source, estimated: source !== "exact", asOf: new Date().toISOString() },
  };
}
