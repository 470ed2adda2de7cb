--! breaking-change
-- Spool migration 3: jobs without a queue (queue_name may be null) run in parallel.

alter table :SPOOL_SCHEMA.jobs alter column queue_name drop not null;

create or replace function :SPOOL_SCHEMA.add_job(
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
    insert into :SPOOL_SCHEMA.jobs as j
      (task_identifier, payload, queue_name, run_at, max_attempts, key)
    values (identifier, payload, queue_name, run_at, max_attempts, job_key)
    on conflict (key) do update
      set task_identifier = excluded.task_identifier,
          payload = excluded.payload,
          queue_name = excluded.queue_name,
          max_attempts = excluded.max_attempts,
          run_at = excluded.run_at,
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

  insert into :SPOOL_SCHEMA.jobs (task_identifier, payload, queue_name, run_at, max_attempts, key)
  values (identifier, payload, queue_name, run_at, max_attempts, job_key)
  returning * into v_result;
  return v_result;
end;
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

  select j.queue_name, j.id into v_queue, v_id
    from :SPOOL_SCHEMA.jobs j
   where (j.locked_at is null or j.locked_at < v_now - job_expiry)
     and (
       j.queue_name is null
       or exists (
         select 1 from :SPOOL_SCHEMA.job_queues q
          where q.queue_name = j.queue_name
            and (q.locked_at is null or q.locked_at < v_now - job_expiry)
          for update skip locked
       )
     )
     and j.run_at <= v_now
     and j.attempts < j.max_attempts
     and (task_identifiers is null or j.task_identifier = any(task_identifiers))
   order by j.priority, j.run_at, j.id
   limit 1
   for update skip locked;

  if v_id is null then
    return null;
  end if;

  if v_queue is not null then
    update :SPOOL_SCHEMA.job_queues
       set locked_by = worker_id, locked_at = v_now
     where job_queues.queue_name = v_queue;
  end if;

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
  if v_result.queue_name is not null then
    update :SPOOL_SCHEMA.job_queues
       set locked_by = null, locked_at = null
     where queue_name = v_result.queue_name and locked_by = worker_id;
  end if;
  return v_result;
end;
$body$;

create or replace function :SPOOL_SCHEMA.complete_job(worker_id text, job_id bigint)
returns :SPOOL_SCHEMA.jobs
language plpgsql as $body$
declare
  v_result :SPOOL_SCHEMA.jobs;
begin
  delete from :SPOOL_SCHEMA.jobs where id = job_id returning * into v_result;
  if v_result.queue_name is not null then
    update :SPOOL_SCHEMA.job_queues
       set locked_by = null, locked_at = null
     where queue_name = v_result.queue_name and locked_by = worker_id;
  end if;
  return v_result;
end;
$body$;

-- Queue counting only concerns jobs that have a queue.
drop trigger _500_increase_job_queue_count on :SPOOL_SCHEMA.jobs;
drop trigger _500_decrease_job_queue_count on :SPOOL_SCHEMA.jobs;
drop trigger _500_increase_job_queue_count_update on :SPOOL_SCHEMA.jobs;
drop trigger _500_decrease_job_queue_count_update on :SPOOL_SCHEMA.jobs;

create trigger _500_increase_job_queue_count
  after insert on :SPOOL_SCHEMA.jobs
  for each row when (new.queue_name is not null)
  execute procedure :SPOOL_SCHEMA.jobs__increase_job_queue_count();
create trigger _500_decrease_job_queue_count
  after delete on :SPOOL_SCHEMA.jobs
  for each row when (old.queue_name is not null)
  execute procedure :SPOOL_SCHEMA.jobs__decrease_job_queue_count();
create trigger _500_increase_job_queue_count_update
  after update of queue_name on :SPOOL_SCHEMA.jobs
  for each row when (new.queue_name is distinct from old.queue_name and new.queue_name is not null)
  execute procedure :SPOOL_SCHEMA.jobs__increase_job_queue_count();
create trigger _500_decrease_job_queue_count_update
  after update of queue_name on :SPOOL_SCHEMA.jobs
  for each row when (new.queue_name is distinct from old.queue_name and old.queue_name is not null)
  execute procedure :SPOOL_SCHEMA.jobs__decrease_job_queue_count();
