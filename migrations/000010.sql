-- Spool migration 10: jobs.queue_name has no default.

alter table :SPOOL_SCHEMA.jobs alter column queue_name drop default;
