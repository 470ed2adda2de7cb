-- Spool migration 4: add_job gains priority and input checks; admin functions
-- complete_jobs, permanently_fail_jobs and reschedule_jobs.

drop function :SPOOL_SCHEMA.add_job(text, json, text, timestamptz, int, text);

create function :SPOOL_SCHEMA.add_job(
  identifier text,
  payload json = null,
  queue_name text = null,
  run_at timestamptz = null,
  max_attempts int = null,
  job_key text = null,
  priority int = null
) returns :SPOOL_SCHEMA.jobs
language plpgsql volatile as $body$
declare
  v_result :SPOOL_SCHEMA.jobs;
begin
  if length(identifier) > 128 then
    raise exception 'Task identifier is longer than 128 characters.' using errcode = 'GWBID';
  end if;
  if queue_name is not null and length(queue_name) > 128 then
    raise exception 'Queue name is longer than 128 characters.' using errcode = 'GWBQN';
  end if;
  if job_key is not null and length(job_key) > 512 then
    raise exception 'Job key is longer than 512 characters.' using errcode = 'GWBJK';
  end if;
  if max_attempts < 1 then
    raise exception 'max_attempts must be 1 or more.' using errcode = 'GWBMA';
  end if;

  if job_key is not null then
    insert into :SPOOL_SCHEMA.jobs as j
      (task_identifier, payload, queue_name, run_at, max_attempts, key, priority)
    values (
      identifier, coalesce(payload, '{}'::json), queue_name, coalesce(run_at, now()),
      coalesce(max_attempts, 25), job_key, coalesce(priority, 0)
    )
    on conflict (key) do update
      set task_identifier = excluded.task_identifier,
          payload = excluded.payload,
          queue_name = excluded.queue_name,
          max_attempts = excluded.max_attempts,
          run_at = excluded.run_at,
          priority = excluded.priority,
          attempts = 0,
          last_error = null
      where j.locked_at is null
    returning * into v_result;

    if found then
      return v_result;
    end if;

    update :SPOOL_SCHEMA.jobs j
       set key = null, attempts = j.max_attempts
     where j.key = job_key;
  end if;

  insert into :SPOOL_SCHEMA.jobs
    (task_identifier, payload, queue_name, run_at, max_attempts, key, priority)
  values (
    identifier, coalesce(payload, '{}'::json), queue_name, coalesce(run_at, now()),
    coalesce(max_attempts, 25), job_key, coalesce(priority, 0)
  )
  returning * into v_result;
  return v_result;
end;
$body$;

-- The admin functions leave alone jobs a worker holds, unless the lock is over 4 hours old.
create function :SPOOL_SCHEMA.complete_jobs(job_ids bigint[]) returns setof :SPOOL_SCHEMA.jobs
language sql volatile as $body$
  delete from :SPOOL_SCHEMA.jobs
   where id = any(job_ids)
     and (locked_by is null or locked_at < now() - interval '4 hours')
  returning *;
$body$;

create function :SPOOL_SCHEMA.permanently_fail_jobs(
  job_ids bigint[],
  error_message text = null
) returns setof :SPOOL_SCHEMA.jobs
language sql volatile as $body$
  update :SPOOL_SCHEMA.jobs
     set last_error = coalesce(error_message, 'Manually marked as failed'),
         attempts = max_attempts
   where id = any(job_ids)
     and (locked_by is null or locked_at < now() - interval '4 hours')
  returning *;
$body$;

create function :SPOOL_SCHEMA.reschedule_jobs(
  job_ids bigint[],
  run_at timestamptz = null,
  priority int = null,
  attempts int = null,
  max_attempts int = null
) returns setof :SPOOL_SCHEMA.jobs
language sql volatile as $body$
  update :SPOOL_SCHEMA.jobs j
     set run_at = coalesce(reschedule_jobs.run_at, j.run_at),
         priority = coalesce(reschedule_jobs.priority, j.priority),
         attempts = coalesce(reschedule_jobs.attempts, j.attempts),
         max_attempts = coalesce(reschedule_jobs.max_attempts, j.max_attempts)
   where j.id = any(job_ids)
     and (j.locked_by is null or j.locked_at < now() - interval '4 hours')
  returning *;
$body$;
