/**
 * Errors an add throws when a `beforeJobSchedule` interceptor said no.
 *
 * @module
 */
import { SpoolError } from "../errors.ts";

/**
 * A `beforeJobSchedule` interceptor skipped the job of a single add
 * (`addJob`, `addRawJob`, `addBatchJob`): nothing was added. Bulk adds
 * (`addJobs`, `addRawJobs`) do not throw for skipped jobs; they leave them out
 * of the returned array.
 *
 * @example
 * ```ts
 * import { JobSkippedError } from "@spool/worker";
 * try {
 *   // await utils.addJob(task, payload);
 * } catch (e) {
 *   if (!(e instanceof JobSkippedError)) throw e;
 * }
 * ```
 */
export class JobSkippedError extends SpoolError {
  /** Task identifier of the skipped job. */
  readonly identifier: string;
  /** Name of the plugin whose interceptor skipped it. */
  readonly plugin: string;
  /** The job of task `identifier` was skipped by plugin `plugin`. */
  constructor(identifier: string, plugin: string) {
    super(
      "JOB_SKIPPED",
      `Job "${identifier}" was not added: the beforeJobSchedule hook of plugin "${plugin}" ` +
        "skipped it",
    );
    this.name = "JobSkippedError";
    this.identifier = identifier;
    this.plugin = plugin;
  }
}

/**
 * A `beforeJobSchedule` interceptor refused a job (returned `{ fail }`,
 * threw, or timed out): the add throws this and nothing is added (for bulk
 * adds: none of the jobs).
 *
 * @example
 * ```ts
 * import { JobRejectedError } from "@spool/worker";
 * const e = new JobRejectedError("send_email", "validation", "missing recipient");
 * console.log(e.reason); // "missing recipient"
 * ```
 */
export class JobRejectedError extends SpoolError {
  /** Task identifier of the refused job. */
  readonly identifier: string;
  /** Name of the plugin whose interceptor refused it. */
  readonly plugin: string;
  /** The reason the interceptor gave (or its error). */
  readonly reason: string;
  /** The job of task `identifier` was refused by plugin `plugin` for `reason`. */
  constructor(identifier: string, plugin: string, reason: string, options?: ErrorOptions) {
    super(
      "JOB_REJECTED",
      `Job "${identifier}" was not added: the beforeJobSchedule hook of plugin "${plugin}" ` +
        `refused it: ${reason}`,
      options,
    );
    this.name = "JobRejectedError";
    this.identifier = identifier;
    this.plugin = plugin;
    this.reason = reason;
  }
}
