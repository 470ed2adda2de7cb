/**
 * Fetches (locks) runnable jobs for this worker's tasks, in batches.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import type { Clock } from "../runtime/types.ts";
import { type FetchedJobRow, jobsFetch } from "../sql/jobs_fetch.ts";
import { tasksIdsGet } from "../sql/tasks_ids.ts";
import { jobsAnalyze, jobsNeverAnalyzed } from "../sql/jobs_analyze.ts";
import type { TaskRegistry } from "./registry.ts";
import type { ForbiddenFlags } from "./types.ts";

/** A locked job and the identifier of its task. */
export interface FetchedJob extends FetchedJobRow {
  identifier: string;
}

/** What a {@linkcode Fetcher} needs. */
export interface FetcherConfig {
  db: Queryable;
  schema: string;
  workerId: string;
  registry: TaskRegistry;
  forbiddenFlags: ForbiddenFlags | undefined;
  /** Set when `useLocalTime` is on: fetches compare run_at with this clock. */
  localClock: Clock | undefined;
}

/** Locks jobs for one worker. Task ids are resolved once and cached. */
export class Fetcher {
  #config: FetcherConfig;
  #taskIds: Promise<{ ids: number[]; byId: Map<number, string> }> | undefined;
  #statsChecked = false;

  constructor(config: FetcherConfig) {
    this.#config = config;
  }

  /** Resolve (and cache) the task ids of the registered identifiers. */
  taskIds(): Promise<{ ids: number[]; byId: Map<number, string> }> {
    if (!this.#taskIds) {
      const { db, schema, registry } = this.#config;
      this.#taskIds = tasksIdsGet(db, { schema, identifiers: [...registry.keys()] }).then(
        (byId) => ({ ids: [...byId.keys()], byId }),
        (error) => {
          this.#taskIds = undefined; // try again on the next fetch
          throw error;
        },
      );
    }
    return this.#taskIds;
  }

  /** Lock up to `batchSize` runnable jobs (at most one per named queue). */
  async fetch(batchSize: number): Promise<FetchedJob[]> {
    const { ids, byId } = await this.taskIds();
    if (ids.length === 0) return [];
    const { db, schema, workerId, forbiddenFlags, localClock } = this.#config;
    const flags = typeof forbiddenFlags === "function" ? await forbiddenFlags() : forbiddenFlags;
    const rows = await jobsFetch(db, {
      schema,
      workerId,
      taskIds: ids,
      batchSize,
      forbiddenFlags: flags,
      now: localClock ? new Date(localClock.now()) : undefined,
    });
    const jobs = rows as FetchedJob[];
    for (const job of jobs) job.identifier = byId.get(job.task_id) ?? "";
    if (!this.#statsChecked && batchSize > 1 && jobs.length === batchSize) void this.#checkStats();
    return jobs;
  }

  /** A backlog on a never-analyzed table: analyze it once (see `src/sql/jobs_analyze.ts`). */
  async #checkStats(): Promise<void> {
    this.#statsChecked = true;
    const { db, schema } = this.#config;
    try {
      if (await jobsNeverAnalyzed(db, schema)) await jobsAnalyze(db, schema);
    } catch {
      // Only a planning aid: autovacuum will analyze the table in time.
    }
  }
}
