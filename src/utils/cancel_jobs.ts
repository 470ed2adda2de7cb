/**
 * `utils.cancelJobs` / `utils.cancelJobByKey`: stop jobs for good. Waiting
 * jobs are permanently failed at once ("cancelled: <reason>") and never run;
 * the Spool worker holding a running (or fetched) job is told by a
 * notification and aborts its signal, then fails it permanently with the
 * same message. See `src/sql/jobs_cancel.ts` for the statement.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import { ValidationError } from "../errors.ts";
import { jobsCancel } from "../sql/jobs_cancel.ts";
import { checkIds, checkString } from "./_admin_args.ts";
import { rejectUnknownKeys } from "./job_options.ts";

/** Options of `cancelJobs` and `cancelJobByKey`. */
export interface CancelJobsOptions {
  /** Why; stored as `last_error` "cancelled: <reason>" (at most 1000 characters). */
  reason?: string;
}

/** What a cancel did. */
export interface CancelJobsResult {
  /** Waiting jobs, now permanently failed (they never run). */
  cancelled: string[];
  /**
   * Jobs a worker held: their worker was notified. A Spool worker aborts the
   * job's signal and fails it permanently within about a second; a job whose
   * task had just finished completes as usual.
   */
  running: string[];
}

const KEYS: ReadonlySet<string> = new Set(["reason"]);
/** Longest reason: it travels in a NOTIFY payload (8000 bytes) with up to CHUNK ids. */
const MAX_REASON = 1000;
const CHUNK = 200;

function checkCancelOptions(options: unknown): string | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ValidationError("options", "must be an object like { reason }");
  }
  const o = options as Record<string, unknown>;
  rejectUnknownKeys(o, KEYS, "options");
  if (o.reason === undefined) return undefined;
  const reason = checkString(o.reason, "options.reason");
  if (reason.length > MAX_REASON) {
    throw new ValidationError(
      "options.reason",
      `must be at most ${MAX_REASON} characters (got ${reason.length})`,
    );
  }
  return reason;
}

/** Check the arguments of `cancelJobs` (throws before any I/O). */
export function checkCancelJobs(
  ids: unknown,
  options: unknown,
): { ids: string[]; reason: string | undefined } {
  return { ids: checkIds(ids), reason: checkCancelOptions(options) };
}

/** Check the arguments of `cancelJobByKey`. */
export function checkCancelByKey(
  key: unknown,
  options: unknown,
): { key: string; reason: string | undefined } {
  return { key: checkString(key, "key"), reason: checkCancelOptions(options) };
}

/** Cancel checked ids (in chunks that fit a notification) or one key. */
export async function cancelWith(
  q: Queryable,
  schema: string,
  target: { ids: string[] } | { key: string },
  reason: string | undefined,
): Promise<CancelJobsResult> {
  const out: CancelJobsResult = { cancelled: [], running: [] };
  const chunks: Array<{ ids: string[]; key: string | null }> = [];
  if ("key" in target) chunks.push({ ids: [], key: target.key });
  else {
    const unique = [...new Set(target.ids)];
    for (let i = 0; i < unique.length; i += CHUNK) {
      chunks.push({ ids: unique.slice(i, i + CHUNK), key: null });
    }
  }
  for (const chunk of chunks) {
    const row = await jobsCancel(q, { schema, ids: chunk.ids, key: chunk.key, reason });
    out.cancelled.push(...row.failed);
    out.running.push(...row.notified);
  }
  return out;
}
