--! breaking-change
-- Spool migration 1: the first job tables, triggers and job functions
-- (same objects as graphile-worker's first schema revision).

create table :SPOOL_SCHEMA.job_queues (
  queue_name text not null primary key,
  job_count int not null,
  locked_at timestamptz,
  locked_by text
);
alter table :SPOOL_SCHEMA.job_queues enable row level security;

create table :SPOOL_SCHEMA.jobs (
  id bigserial primary key,
  queue_name text not null,
  task_identifier text not null,
  payload json default '{}'::json not null,
  priority int default 0 not null,
  run_at timestamptz default now() not null,
  attempts int default 0 not null,
  max_attempts int default 25 not null,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table :SPOOL_SCHEMA.jobs enable row level security;

create index jobs_priority_run_at_id_idx on :SPOOL_SCHEMA.jobs (priority, run_at, id);

-- updated_at always moves forward on update.
create function :SPOOL_SCHEMA.tg__update_timestamp() returns trigger
language plpgsql as $body$
begin
  new.updated_at := greatest(now(), old.updated_at + interval '1 millisecond');
  return new;
end;
$body$;

create trigger _100_timestamps
  before update on :SPOOL_SCHEMA.jobs
  for each row execute procedure :SPOOL_SCHEMA.tg__update_timestamp();

-- job_queues holds one row per queue name that has jobs, with a count.
create function :SPOOL_SCHEMA.jobs__decrease_job_queue_count() returns trigger
language plpgsql as $body$
declare
  v_remaining int;
begin
  update :SPOOL_SCHEMA.job_queues q
     set job_count = q.job_count - 1
   where q.queue_name = old.queue_name
  returning q.job_count into v_remaining;

  if v_remaining <= 0 then
    delete from :SPOOL_SCHEMA.job_queues q
     where q.queue_name = old.queue_name and q.job_count <= 0;
  end if;
  return old;
end;
$body$;

create function :SPOOL_SCHEMA.jobs__increase_job_queue_count() returns trigger
language plpgsql as $body$
begin
  insert into :SPOOL_SCHEMA.job_queues as q (queue_name, job_count)
  values (new.queue_name, 1)
  on conflict (queue_name) do update set job_count = q.job_count + 1;
  return new;
end;
$body$;

create trigger _500_increase_job_queue_count
  after insert on :SPOOL_SCHEMA.jobs
  for each row execute procedure :SPOOL_SCHEMA.jobs__increase_job_queue_count();
create trigger _500_decrease_job_queue_count
  after delete on :SPOOL_SCHEMA.jobs
  for each row execute procedure :SPOOL_SCHEMA.jobs__decrease_job_queue_count();
create trigger _500_increase_job_queue_count_update
  after update of queue_name on :SPOOL_SCHEMA.jobs
  for each row execute procedure :SPOOL_SCHEMA.jobs__increase_job_queue_count();
create trigger _500_decrease_job_queue_count_update
  after update of queue_name on :SPOOL_SCHEMA.jobs
  for each row execute procedure :SPOOL_SCHEMA.jobs__decrease_job_queue_count();

-- Wake listening workers whenever jobs are inserted.
create function :SPOOL_SCHEMA.tg_jobs__notify_new_jobs() returns trigger
language plpgsql as $body$
begin
  perform pg_notify('jobs:insert', '');
  return new;
end;
$body$;

create trigger _900_notify_worker
  after insert on :SPOOL_SCHEMA.jobs
  for each statement execute procedure :SPOOL_SCHEMA.tg_jobs__notify_new_jobs();

create function :SPOOL_SCHEMA.add_job(
  identifier text,
  payload json = '{}',
  queue_name text = null,
  run_at timestamptz = now(),
  max_attempts int = 25
) returns :SPOOL_SCHEMA.jobs
language sql as $body$
  insert into :SPOOL_SCHEMA.jobs (task_identifier, payload, queue_name, run_at, max_attempts)
  values (identifier, payload, queue_name, run_at, max_attempts)
  returning *;
$body$;

create function :SPOOL_SCHEMA.get_job(
  worker_id text,
  task_identifiers text[] = null,
  job_expiry interval = interval '4 hours'
) returns :SPOOL_SCHEMA.jobs
language plpgsql as $body$
declare
  v_id bigint;
  v_queue text;
  v_result :SPOOL_SCHEMA.jobs;
begin
  if worker_id is null or length(worker_id) < 10 then
    raise exception 'invalid worker id';
  end if;

  select q.queue_name, j.id into v_queue, v_id
    from :SPOOL_SCHEMA.jobs j
    join :SPOOL_SCHEMA.job_queues q on q.queue_name = j.queue_name
   where (q.locked_at is null or q.locked_at < now() - job_expiry)
     and j.run_at <= now()
     and j.attempts < j.max_attempts
     and (task_identifiers is null or j.task_identifier = any(task_identifiers))
   order by j.priority, j.run_at, j.id
   limit 1
   for update of q skip locked;

  if v_queue is null then
    return null;
  end if;

  update :SPOOL_SCHEMA.job_queues
     set locked_by = worker_id, locked_at = now()
   where job_queues.queue_name = v_queue;

  update :SPOOL_SCHEMA.jobs
     set attempts = attempts + 1
   where id = v_id
  returning * into v_result;
  return v_result;
end;
$body$;

create function :SPOOL_SCHEMA.complete_job(worker_id text, job_id bigint) returns :SPOOL_SCHEMA.jobs
language plpgsql as $body$
declare
  v_result :SPOOL_SCHEMA.jobs;
begin
  delete from :SPOOL_SCHEMA.jobs where id = job_id returning * into v_result;
  update :SPOOL_SCHEMA.job_queues
     set locked_by = null, locked_at = null
   where queue_name = v_result.queue_name and locked_by = worker_id;
  return v_result;
end;
$body$;

create function :SPOOL_SCHEMA.fail_job(worker_id text, job_id bigint, error_message text)
returns :SPOOL_SCHEMA.jobs
language plpgsql as $body$
declare
  v_result :SPOOL_SCHEMA.jobs;
begin
  update :SPOOL_SCHEMA.jobs
     set last_error = error_message,
         run_at = greatest(now(), run_at) + exp(least(attempts, 10)) * interval '1 second'
   where id = job_id
  returning * into v_result;
  update :SPOOL_SCHEMA.job_queues
     set locked_by = null, locked_at = null
   where queue_name = v_result.queue_name and locked_by = worker_id;
  return v_result;
end;
$body$;
