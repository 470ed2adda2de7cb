-- Spool migration 6: the fetch index skips permanently failed jobs.

create index jobs_priority_run_at_id_locked_at_without_failures_idx
  on :SPOOL_SCHEMA.jobs (priority, run_at, id, locked_at)
  where attempts < max_attempts;

drop index :SPOOL_SCHEMA.jobs_priority_run_at_id_idx;
