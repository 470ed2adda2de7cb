/**
 * Cron: crontab text, typed schedules, and the scheduler service. The public
 * surface of this folder, for `mod.ts` to re-export.
 *
 * @module
 */
export { cron, CronBuilder, type CronTask, type Weekday } from "./builder.ts";
export { CrontabParseError, parseCrontab } from "./crontab_parser.ts";
export { parseDuration } from "./duration.ts";
export { type CronInput, type CronSources, resolveCronItems } from "./resolve.ts";
export type { CronSchedule } from "./schedule.ts";
export type { CronFields } from "./fields.ts";
export {
  createCronScheduler,
  type CronAddJobs,
  type CronScheduler,
  type CronSchedulerOptions,
} from "./scheduler.ts";
export type { CronItem, CronJobOptions, CronPayloadInfo } from "./types.ts";
