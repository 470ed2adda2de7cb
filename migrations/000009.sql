-- Spool migration 9: get_job accepts the caller's idea of "now".

drop function :SPOOL_SCHEMA.get_job(text, text[], interval, text[]);

create function :SPOOL_SCHEMA.get_job(
  worker_id text,
  task_identifiers text[] = null,
  job_expiry interval = interval '4 hours',
  forbidden_flags text[] = null,
  now timestamptz = now()
) returns :SPOOL_SCHEMA.jobs
language plpgsql volatile as $body$
declare
  v_id bigint;
  v_queue text;
  v_result :SPOOL_SCHEMA.jobs;
begin
  if worker_id is null or length(worker_id) < 10 then
    raise exception 'invalid worker id';
  end if;

  select j.queue_name, j.id into v_queue, v_id
    from :SPOOL_SCHEMA.jobs j
   where (j.locked_at is null or j.locked_at < get_job.now - job_expiry)
     and (
       j.queue_name is null
       or exists (
         select 1 from :SPOOL_SCHEMA.job_queues q
          where q.queue_name = j.queue_name
            and (q.locked_at is null or q.locked_at < get_job.now - job_expiry)
          for update skip locked
       )
     )
     and j.run_at <= get_job.now
     and j.attempts < j.max_attempts
     and (task_identifiers is null or j.task_identifier = any(task_identifiers))
     and (forbidden_flags is null or (j.flags ?| forbidden_flags) is not true)
   order by j.priority, j.run_at, j.id
   limit 1
   for update skip locked;

  if v_id is null then
    return null;
  end if;

  if v_queue is not null then
    update :SPOOL_SCHEMA.job_queues
       set locked_by = worker_id, locked_at = get_job.now
     where job_queues.queue_name = v_queue;
  end if;

  update :SPOOL_SCHEMA.jobs
     set attempts = attempts + 1, locked_by = worker_id, locked_at = get_job.now
   where id = v_id
  returning * into v_result;
  return v_result;
end;
$body$;
