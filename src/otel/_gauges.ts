/**
 * The opt-in queue gauges: jobs by state and the oldest ready job's age,
 * observed with one query per metrics collection (`src/sql/jobs_gauges.ts`).
 *
 * @module
 */
import type { BatchObservableCallback, Meter } from "@opentelemetry/api";
import type { Queryable } from "../driver/types.ts";
import { jobsGauges } from "../sql/jobs_gauges.ts";
import { ATTR, METRIC, SPOOL } from "./_names.ts";

const STATES = ["ready", "scheduled", "locked", "failed"] as const;

/** Start observing the jobs of `schema`; returns the function that stops it. */
export function observeQueue(
  meter: Meter,
  db: Queryable,
  schema: string,
  system: string,
): () => void {
  const jobs = meter.createObservableGauge(METRIC.jobs, {
    unit: "{job}",
    description: "Jobs by state (ready, scheduled, locked, failed)",
  });
  const age = meter.createObservableGauge(METRIC.oldestReadyAge, {
    unit: "s",
    description: "Seconds the oldest ready job has been waiting since its run_at",
  });
  const callback: BatchObservableCallback = async (result) => {
    let row;
    try {
      row = await jobsGauges(db, schema);
    } catch {
      return; // a collection without these points; the next one tries again
    }
    for (const state of STATES) {
      result.observe(jobs, row[state], { [ATTR.system]: system, [SPOOL.state]: state });
    }
    result.observe(age, row.oldest_ready_age, { [ATTR.system]: system });
  };
  meter.addBatchObservableCallback(callback, [jobs, age]);
  return () => meter.removeBatchObservableCallback(callback, [jobs, age]);
}
