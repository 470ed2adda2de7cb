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
  const counter = (name: string, unit: string, description: string) =>
    meter.createCounter(name, { unit, description });
  const histogram = (name: string, unit: string, description: string, buckets: readonly number[]) =>
    meter.createHistogram(name, {
      unit,
      description,
      advice: { explicitBucketBoundaries: [...buckets] },
    });
  return {
    sent: counter(
      METRIC.sent,
      "{message}",
      "Jobs Spool attempted to add (error.type set when the add failed)",
    ),
    consumed: counter(
      METRIC.consumed,
      "{message}",
      "Job attempts that settled (completed or failed) on this worker",
    ),
    processDuration: histogram(
      METRIC.processDuration,
      "s",
      "Duration of job attempts",
      DURATION_BUCKETS,
    ),
    operationDuration: histogram(
      METRIC.operationDuration,
      "s",
      "Duration of adds (send) and fetches (receive) against the database",
      DURATION_BUCKETS,
    ),
    fetchSize: histogram(
      METRIC.fetchSize,
      "{message}",
      "Jobs locked per fetch",
      FETCH_SIZE_BUCKETS,
    ),
    failures: counter(
      METRIC.failures,
      "{job}",
      "Failed job attempts, by task (spool.job.permanent when no attempt is left)",
    ),
    retries: counter(
      METRIC.retries,
      "{job}",
      "Failed job attempts scheduled to run again, by task",
    ),
  };
}
