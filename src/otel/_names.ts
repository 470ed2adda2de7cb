/**
 * Attribute and metric names. The messaging ones are copied from the
 * semantic conventions (their JS constants live in an "incubating" entry that
 * may break in minor releases, so instrumentations copy them); `spool.*` are
 * Spool's own.
 *
 * @module
 */

/** `messaging.*` attributes of the conventions. */
export const ATTR = {
  system: "messaging.system",
  operationName: "messaging.operation.name",
  operationType: "messaging.operation.type",
  destination: "messaging.destination.name",
  messageId: "messaging.message.id",
  clientId: "messaging.client.id",
  batchCount: "messaging.batch.message_count",
  errorType: "error.type",
} as const;

/** Spool's own attributes. */
export const SPOOL = {
  addMethod: "spool.add.method",
  attempt: "spool.job.attempt",
  maxAttempts: "spool.job.max_attempts",
  priority: "spool.job.priority",
  queue: "spool.job.queue_name",
  key: "spool.job.key",
  batchItems: "spool.job.batch.items",
  permanent: "spool.job.permanent",
  retry: "spool.job.will_retry",
  notAdded: "spool.job.not_added",
  cronIdentifier: "spool.cron.identifier",
  cronTs: "spool.cron.ts",
  cronBackfilled: "spool.cron.backfilled",
  state: "spool.job.state",
} as const;

/** Metric names. */
export const METRIC = {
  sent: "messaging.client.sent.messages",
  consumed: "messaging.client.consumed.messages",
  processDuration: "messaging.process.duration",
  operationDuration: "messaging.client.operation.duration",
  fetchSize: "spool.worker.fetch.jobs",
  failures: "spool.job.failures",
  retries: "spool.job.retries",
  jobs: "spool.queue.jobs",
  oldestReadyAge: "spool.queue.oldest_ready.age",
} as const;

/** The conventions' bucket advice for the messaging duration histograms (seconds). */
export const DURATION_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
];

/** Buckets of the fetch size histogram (jobs per fetch). */
export const FETCH_SIZE_BUCKETS: readonly number[] = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

/** What `error.type` says for a thrown value: its class name, else `_OTHER`. */
export function errorType(cause: unknown): string {
  if (cause instanceof Error) return cause.constructor?.name || cause.name || "Error";
  return "_OTHER";
}
