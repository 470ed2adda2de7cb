/**
 * The plugin's instruments. Attributes are low-cardinality only: the
 * messaging system, the task identifier (`messaging.destination.name`), the
 * operation, `error.type` and a few booleans; never job ids or keys.
 *
 * @module
 */
import type { Counter, Histogram, Meter } from "@opentelemetry/api";
import { DURATION_BUCKETS, FETCH_SIZE_BUCKETS, METRIC } from "./_names.ts";

/** The instruments one plugin records to. */
export interface Instruments {
  sent: Counter;
  consumed: Counter;
  processDuration: Histogram;
  operationDuration: Histogram;
  fetchSize: Histogram;
  failures: Counter;
  retries: Counter;
}

/** Create the instruments on `meter`. */
export function createInstruments(meter: Meter): Instruments {
  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, {
      unit: "s",
      description,
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
    });
  return {
    sent: meter.createCounter(METRIC.sent, {
      unit: "{message}",
      description: "Jobs Spool attempted to add (error.type set when the add failed)",
    }),
    consumed: meter.createCounter(METRIC.consumed, {
      unit: "{message}",
      description: "Job attempts delivered to a task (or settled by a beforeJobRun hook)",
    }),
    processDuration: seconds(METRIC.processDuration, "Duration of job attempts"),
    operationDuration: seconds(
      METRIC.operationDuration,
      "Duration of adds (send) and fetches (receive) against the database",
    ),
    fetchSize: meter.createHistogram(METRIC.fetchSize, {
      unit: "{message}",
      description: "Jobs locked per fetch",
      advice: { explicitBucketBoundaries: [...FETCH_SIZE_BUCKETS] },
    }),
    failures: meter.createCounter(METRIC.failures, {
      unit: "{job}",
      description: "Failed job attempts, by task (spool.job.permanent when no attempt is left)",
    }),
    retries: meter.createCounter(METRIC.retries, {
      unit: "{job}",
      description: "Failed job attempts scheduled to run again, by task",
    }),
  };
}
