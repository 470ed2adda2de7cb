/**
 * The resolved cron item the scheduler runs, whatever its source (crontab
 * text or a typed schedule).
 *
 * @module
 */
import type { JobKeyMode } from "../utils/types.ts";
import type { CronSchedule } from "./schedule.ts";

/** Job options a cron item applies to every job it adds. */
export interface CronJobOptions {
  /** Named queue for the jobs. */
  readonly queueName?: string;
  /** Job priority (smallint; lower runs first). */
  readonly priority?: number;
  /** Attempts before a job is permanently failed (1–32767). */
  readonly maxAttempts?: number;
  /** Job key for deduplication. */
  readonly jobKey?: string;
  /** Key mode; "replace" when a key is set without a mode. */
  readonly jobKeyMode?: JobKeyMode;
}

/** One recurring job, ready for the scheduler. */
export interface CronItem {
  /** Unique name of this item (the `_private_known_crontabs` key); defaults to the task. */
  readonly identifier: string;
  /** Task identifier of the jobs it adds. */
  readonly task: string;
  /** When it fires. */
  readonly schedule: CronSchedule;
  /** How far back (ms) missed runs are filled in after downtime; 0 = never. */
  readonly fill: number;
  /** Payload object merged into every job's payload (`null` = none). */
  readonly payload: Readonly<Record<string, unknown>> | null;
  /** Options for the jobs. */
  readonly options: CronJobOptions;
  /** Where the item came from, for error messages ("crontab line 3", "cron[1]"). */
  readonly source: string;
}

/** What `_cron` holds in the payload of every job a cron item adds. */
export interface CronPayloadInfo {
  /** The scheduled minute, as an ISO 8601 UTC string (`2026-01-01T08:00:00.000Z`). */
  ts: string;
  /** True when the run was filled in after downtime rather than run on time. */
  backfilled: boolean;
}
