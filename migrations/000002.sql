-- Spool migration 2: job keys, per-job lock columns and remove_job.

alter table :SPOOL_SCHEMA.jobs add column key text unique check (length(key) > 0);
alter table :SPOOL_SCHEMA.jobs add column locked_at timestamptz;
alter table :SPOOL_SCHEMA.jobs add column locked_by text;

-- Copy the lock of any queue that is being worked on onto its jobs.
update :SPOOL_SCHEMA.jobs j
   set locked_at = q.locked_at, locked_by = q.locked_by
  from :SPOOL_SCHEMA.job_queues q
 where q.queue_name = j.queue_name
   and q.locked_at is not null;

drop function if exists :SPOOL_SCHEMA.add_job(text, json, text, timestamptz, int);

create function :SPOOL_SCHEMA.add_job(
  identifier text,
  payload json = '{}',
  queue_name text = null,
  run_at timestamptz = now(),
  max_attempts int = 25,
  job_key text = null
) returns :SPOOL_SCHEMA.jobs
language plpgsql volatile as $body$
declare
  v_result :SPOOL_SCHEMA.jobs;
begin
  if job_key is not null then
    -- Update the keyed job in place unless a worker holds it.
    insert into :SPOOL_SCHEMA.jobs as j
      (task_identifier, payload, queue_name, run_at, max_attempts, key)
    values (identifier, payload, queue_name, run_at, max_attempts, job_key)
    on conflict (key) do update
      set task_identifier = excluded.task_identifier,
          payload = excluded.payload,
          queue_name = coalesce(add_job.queue_name, j.queue_name),
          max_attempts = excluded.max_attempts,
          run_at = excluded.run_at,
          attempts = 0,
          last_error = null
      where j.locked_at is null
    returning * into v_result;

    if found then
      return v_result;
    end if;

    -- The keyed job is running: retire it (no key, no retries) and add a fresh one.
    update :SPOOL_SCHEMA.jobs j
       set key = null, attempts = j.max_attempts
     where j.key = job_key;
  end if;

  insert into :SPOOL_SCHEMA.jobs (task_identifier, payload, queue_name, run_at, max_attempts, key)
  values (identifier, payload, queue_name, run_at, max_attempts, job_key)
  returning * into v_result;
  return v_result;
end;
$body$;

create function :SPOOL_SCHEMA.remove_job(job_key text) returns :SPOOL_SCHEMA.jobs
language sql strict volatile as $body$
  delete from :SPOOL_SCHEMA.jobs
   where key = job_key and locked_at is null
  returning *;
$body$;

create or replace function :SPOOL_SCHEMA.get_job(
  worker_id text,
  task_identifiers text[] = null,
  job_expiry interval = interval '4 hours'
) returns :SPOOL_SCHEMA.jobs
language plpgsql volatile as $body$
declare
  v_id bigint;
  v_queue text;
  v_result :SPOOL_SCHEMA.jobs;
  v_now timestamptz := now();
begin
  if worker_id is null or length(worker_id) < 10 then
    raise exception 'invalid worker id';
  end if;

  select q.queue_name, j.id into v_queue, v_id
    from :SPOOL_SCHEMA.jobs j
    join :SPOOL_SCHEMA.job_queues q on q.queue_name = j.queue_name
   where (q.locked_at is null or q.locked_at < v_now - job_expiry)
     and j.run_at <= v_now
     and j.attempts < j.max_attempts
     and (task_identifiers is null or j.task_identifier = any(task_identifiers))
   order by j.priority, j.run_at, j.id
   limit 1
   for update of q skip locked;

  if v_queue is null then
    return null;
  end if;

  update :SPOOL_SCHEMA.job_queues
     set locked_by = worker_id, locked_at = v_now
   where job_queues.queue_name = v_queue;

  update :SPOOL_SCHEMA.jobs
     set attempts = attempts + 1, locked_by = worker_id, locked_at = v_now
   where id = v_id
  returning * into v_result;
  return v_result;
end;
$body$;

create or replace function :SPOOL_SCHEMA.fail_job(worker_id text, job_id bigint, error_message text)
returns :SPOOL_SCHEMA.jobs
language plpgsql volatile strict as $body$
declare
  v_result :SPOOL_SCHEMA.jobs;
begin
  update :SPOOL_SCHEMA.jobs
     set last_error = error_message,
         run_at = greatest(now(), run_at) + exp(least(attempts, 10)) * interval '1 second',
         locked_by = null,
         locked_at = null
   where id = job_id and locked_by = worker_id
  returning * into v_result;
  update :SPOOL_SCHEMA.job_queues
     set locked_by = null, locked_at = null
   where queue_name = v_result.queue_name and locked_by = worker_id;
  return v_result;
end;
$body$;
