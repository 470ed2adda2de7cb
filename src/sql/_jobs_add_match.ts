/**
 * Pairing the rows `add_jobs` returns with the specs that produced them.
 *
 * `add_jobs` inserts through a join, so its rows need not come back in input
 * order (seen in practice: a hash join reorders them). Keyed rows are paired
 * by key. Keyless rows are paired by content (payload text, priority, attempts,
 * run_at, flags, queue presence, and the identifier/queue when the row's
 * lookup saw them). Specs with identical content are interchangeable, except
 * when they differ only in brand-new identifiers or queues: then the pairing
 * reports `ambiguous` and the caller resolves names and pairs again.
 *
 * @module
 */
import type { NormalizedJob } from "../utils/job_options.ts";
import type { JobRow } from "./job_row.ts";

/** A returned row with the exact JSON text of its payload. */
export type AddedRow = JobRow & { payload_text: string };

function flagsMatch(row: AddedRow, job: NormalizedJob): boolean {
  if (row.flags == null && job.flags === null) return true;
  const stored = row.flags ? Object.keys(row.flags).sort() : [];
  const wanted = [...new Set(job.flags ?? [])].sort();
  return stored.length === wanted.length && stored.every((f, i) => f === wanted[i]);
}

function sameContent(row: AddedRow, job: NormalizedJob): boolean {
  return row.payload_text === job.payloadJson &&
    Number(row.priority) === (job.priority ?? 0) &&
    Number(row.max_attempts) === (job.maxAttempts ?? 25) &&
    (job.runAt === null || new Date(row.run_at).getTime() === job.runAt.getTime()) &&
    (row.job_queue_id == null) === (job.queueName === null) &&
    (row.task_identifier == null || row.task_identifier === job.identifier) &&
    (row.queue_name == null || row.queue_name === job.queueName) &&
    flagsMatch(row, job);
}

/** The outcome of {@linkcode jobsAddMatch}. */
export interface MatchResult {
  /** For each job index, the index of its row, or -1 when none came back. */
  rowOf: number[];
  /** Some keyless rows could belong to specs with different unseen names. */
  ambiguous: boolean;
}

/**
 * Pair `rows` with `jobs`. `rows[r].grp` says which add_jobs call returned
 * it; `groupOf[i]` which call job `i` went to.
 */
export function jobsAddMatch(
  jobs: readonly NormalizedJob[],
  groupOf: readonly number[],
  rows: readonly (AddedRow & { grp: number })[],
): MatchResult {
  const rowOf = jobs.map(() => -1);
  const byKey = new Map<string, number>();
  // Keyless specs bucketed by payload text, so pairing stays linear for big batches.
  const keyless = new Map<string, number[]>();
  jobs.forEach((job, i) => {
    if (job.jobKey !== null) byKey.set(`${groupOf[i]}:${job.jobKey}`, i);
    else if (keyless.has(job.payloadJson)) keyless.get(job.payloadJson)!.push(i);
    else keyless.set(job.payloadJson, [i]);
  });
  const taken = new Set<number>();
  let ambiguous = false;
  rows.forEach((row, r) => {
    if (row.key != null) {
      const i = byKey.get(`${Number(row.grp)}:${row.key}`);
      if (i !== undefined) rowOf[i] = r;
      return;
    }
    const bucket = keyless.get(row.payload_text);
    if (bucket === undefined) return;
    const grp = Number(row.grp);
    // One pass over the candidates: the first, whether they differ in names, and
    // the pick (prefer an explicit run_at, so a defaulted one stays free for rows at now()).
    let first = -1;
    let pick = -1;
    for (const i of bucket) {
      if (taken.has(i) || groupOf[i] !== grp || !sameContent(row, jobs[i])) continue;
      if (first === -1) first = i;
      else if (
        jobs[i].identifier !== jobs[first].identifier || jobs[i].queueName !== jobs[first].queueName
      ) {
        ambiguous = true;
      }
      if (pick === -1 && jobs[i].runAt !== null) pick = i;
    }
    if (first === -1) return;
    if (pick === -1) pick = first;
    taken.add(pick);
    rowOf[pick] = r;
  });
  return { rowOf, ambiguous };
}
