/**
 * Why a running job was stopped. Every job runs with its own `AbortSignal`
 * (`ctx.signal`); when Spool aborts it, `ctx.signal.reason` is a
 * {@linkcode JobAbortedError} whose `kind` says why:
 *
 * - `"shutdown"`: the worker is stopping and the grace period is over; the job
 *   is handed back (attempt not counted) to run again later.
 * - `"timeout"`: the task's timeout expired; the attempt fails with
 *   `last_error` "timed out after 30 s" and is retried like any failure.
 * - `"cancelled"`: `utils.cancelJobs` / `utils.cancelJobByKey`; the job is
 *   permanently failed with "cancelled: <reason>", never retried.
 * - `"lockLost"`: the worker can no longer prove it holds the job (its
 *   heartbeat could not be written for too long, or after a reconnect the
 *   lock was gone); the outcome is discarded and the attempt not counted.
 *
 * Once a job is aborted its outcome follows the reason, whatever the task
 * then returns or throws.
 *
 * @module
 */
import { SpoolError } from "../errors.ts";
import { cancelMessage } from "../sql/jobs_cancel.ts";

/** Why a job's signal was aborted. */
export type JobAbortKind = "shutdown" | "timeout" | "cancelled" | "lockLost";

/**
 * The reason of an aborted `ctx.signal`. Thrown by `ctx.signal.throwIfAborted()`.
 *
 * @example
 * ```ts
 * import { defineTask, JobAbortedError } from "@spool/worker";
 * import { z } from "zod";
 *
 * export const crawl = defineTask({
 *   identifier: "crawl",
 *   payload: z.object({ url: z.string() }),
 *   timeout: "30s",
 *   async run(payload, ctx) {
 *     try {
 *       await fetch(payload.url, { signal: ctx.signal });
 *     } catch (error) {
 *       const reason = ctx.signal.reason;
 *       if (reason instanceof JobAbortedError) ctx.logger.warn(`stopped: ${reason.kind}`);
 *       throw error;
 *     }
 *   },
 * });
 * ```
 */
export class JobAbortedError extends SpoolError {
  /** Why the job was stopped. */
  readonly kind: JobAbortKind;
  /** The job's id. */
  readonly jobId: string;
  /** For `"timeout"`: the timeout in milliseconds. */
  readonly timeoutMs: number | undefined;
  /** For `"cancelled"`: the reason given to the cancel call, if any. */
  readonly cancelReason: string | undefined;

  /** Prefer the static constructors (`JobAbortedError.timeout(…)` and the others). */
  constructor(
    kind: JobAbortKind,
    jobId: string,
    message: string,
    extra: { timeoutMs?: number; cancelReason?: string } = {},
  ) {
    super("JOB_ABORTED", message);
    this.name = "JobAbortedError";
    this.kind = kind;
    this.jobId = jobId;
    this.timeoutMs = extra.timeoutMs;
    this.cancelReason = extra.cancelReason;
  }

  /** The worker is shutting down. */
  static shutdown(jobId: string): JobAbortedError {
    return new JobAbortedError("shutdown", jobId, "The worker is shutting down");
  }

  /** The timeout of `ms` expired; the message is the job's `last_error`. */
  static timeout(jobId: string, ms: number): JobAbortedError {
    return new JobAbortedError("timeout", jobId, `timed out after ${formatMs(ms)}`, {
      timeoutMs: ms,
    });
  }

  /** Cancelled; the message ("cancelled: <reason>") is the job's `last_error`. */
  static cancelled(jobId: string, reason: string | undefined): JobAbortedError {
    return new JobAbortedError("cancelled", jobId, cancelMessage(reason), {
      cancelReason: reason,
    });
  }

  /** The worker lost (or can no longer prove) its lock on the job. */
  static lockLost(jobId: string, why: string): JobAbortedError {
    return new JobAbortedError("lockLost", jobId, `lock lost: ${why}`);
  }
}

/** "30 s", "1.5 s", "250 ms". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}
