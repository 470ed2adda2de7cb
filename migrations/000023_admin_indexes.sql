-- Spool migration 23 (Spool's own, not breaking): an index for the admin API.
-- Lock holders (the admin's overview and metrics, worker lists, the `worker`
-- filter) group jobs by `locked_by`; without an index every poll scanned the
-- whole jobs table. Only locked jobs are in this index (a few per worker), so
-- it costs one small entry when a job is locked and nothing otherwise.
-- graphile-worker's own objects are untouched; it ignores this index.

create index if not exists _spool_jobs_locked_by_idx
  on :SPOOL_SCHEMA._private_jobs (locked_by)
  where locked_by is not null;
