-- Spool migration 15: drop trigger functions nothing uses any more; add
-- force_unlock_workers to release the locks of crashed workers.

drop function :SPOOL_SCHEMA.jobs__increase_job_queue_count();
drop function :SPOOL_SCHEMA.jobs__decrease_job_queue_count();
drop function :SPOOL_SCHEMA.tg__update_timestamp();

create function :SPOOL_SCHEMA.force_unlock_workers(worker_ids text[]) returns void
language sql volatile as $body$
  update :SPOOL_SCHEMA.jobs j
     set locked_at = null, locked_by = null
   where j.locked_by = any(worker_ids);
  update :SPOOL_SCHEMA.job_queues q
     set locked_at = null, locked_by = null
   where q.locked_by = any(worker_ids);
$body$;
