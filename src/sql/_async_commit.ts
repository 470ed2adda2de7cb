/**
 * Asynchronous commit for the worker's own bookkeeping statements (locking a
 * fetched batch, deleting completed jobs).
 *
 * `set_config('synchronous_commit', 'off', true)` inside the statement makes
 * its (implicit) transaction commit without waiting for the WAL flush, which
 * is most of a small transaction's latency on a real disk. Jobs added by
 * users stay durable: only these statements opt out. What can be lost is the
 * last few hundred milliseconds of such commits if the PostgreSQL server
 * itself crashes (not the worker): a lock that was lost makes the job
 * runnable again, a completion that was lost makes it run again. Both are
 * within at-least-once delivery, which a job queue gives anyway (a worker
 * can always die between running a job and recording it).
 *
 * Usage: put `${ASYNC_COMMIT_CTE}` first in a `with` list and reference
 * `async_commit` once (a CTE that is never referenced is not evaluated).
 *
 * @module
 */

/** A one-row CTE named `async_commit` that switches the transaction to asynchronous commit. */
export const ASYNC_COMMIT_CTE =
  "async_commit as materialized (select set_config('synchronous_commit', 'off', true) as setting)";
