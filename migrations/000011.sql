--! breaking-change
-- Spool migration 11: the normalised schema. Tasks and queues get integer ids,
-- jobs reference them, availability is a generated column, fetching/completing
-- moves into client SQL, and add_jobs adds many jobs at once.
-- Refuses to run (SQLSTATE 22012) while any job was locked in the last 4 hours.

lock table :SPOOL_SCHEMA.jobs;
lock table :SPOOL_SCHEMA.job_queues;

do $check$
begin
  if exists (
    select 1 from :SPOOL_SCHEMA.jobs
     where locked_at is not null and locked_at > now() - interval '4 hours'
  ) then
    raise exception 'Jobs are locked by running workers; stop all workers before migration 11.'
      using errcode = '22012';
  end if;
end;
$check$;

alter table :SPOOL_SCHEMA.jobs
  alter column attempts type int2,
  alter column max_attempts type int2,
  alter column priority type int2;

drop function :SPOOL_SCHEMA.complete_job;
drop function :SPOOL_SCHEMA.fail_job;
drop function :SPOOL_SCHEMA.get_job;

drop trigger _900_notify_worker on :SPOOL_SCHEMA.jobs;
drop function :SPOOL_SCHEMA.add_job;
drop function :SPOOL_SCHEMA.complete_jobs;
drop function :SPOOL_SCHEMA.permanently_fail_jobs;
drop function :SPOOL_SCHEMA.remove_job;
drop function :SPOOL_SCHEMA.reschedule_jobs;
drop function :SPOOL_SCHEMA.tg_jobs__notify_new_jobs;

-- The old tables stay until their rows are copied (at the end of this file).
alter table :SPOOL_SCHEMA.jobs rename to jobs_legacy;
alter table :SPOOL_SCHEMA.job_queues rename to job_queues_legacy;

create table :SPOOL_SCHEMA.job_queues (
  id int primary key generated always as identity,
  queue_name text not null unique check (length(queue_name) <= 128),
  locked_at timestamptz,
  locked_by text,
  is_available boolean generated always as ((locked_at is null)) stored not null
);
alter table :SPOOL_SCHEMA.job_queues enable row level security;

create table :SPOOL_SCHEMA.tasks (
  id int primary key generated always as identity,
  identifier text not null unique check (length(identifier) <= 128)
);
alter table :SPOOL_SCHEMA.tasks enable row level security;

-- job_queue_id and task_id deliberately have no foreign keys (insert speed).
create table :SPOOL_SCHEMA.jobs (
  id bigint primary key generated always as identity,
  job_queue_id int null,
  task_id int not null,
  payload json default '{}'::json not null,
  priority smallint default 0 not null,
  run_at timestamptz default now() not null,
  attempts smallint default 0 not null,
  max_attempts smallint default 25 not null
    constraint jobs_max_attempts_check check (max_attempts >= 1),
  last_error text,
  created_at timestamptz default now() not null,
  updated_at timestamptz default now() not null,
  key text unique constraint jobs_key_check check (length(key) > 0 and length(key) <= 512),
  locked_at timestamptz,
  locked_by text,
  revision integer default 0 not null,
  flags jsonb,
  is_available boolean
    generated always as (((locked_at is null) and (attempts < max_attempts))) stored not null
);
alter table :SPOOL_SCHEMA.jobs enable row level security;

create index jobs_main_index on :SPOOL_SCHEMA.jobs
  using btree (priority, run_at) include (id, task_id, job_queue_id)
  where (is_available = true);

create index jobs_no_queue_index on :SPOOL_SCHEMA.jobs
  using btree (priority, run_at) include (id, task_id)
  where (is_available = true and job_queue_id is null);

create type :SPOOL_SCHEMA.job_spec as (
  identifier text,
  payload json,
  queue_name text,
  run_at timestamptz,
  max_attempts integer,
  job_key text,
  priority integer,
  flags text[]
);

create function :SPOOL_SCHEMA.add_jobs(
  specs :SPOOL_SCHEMA.job_spec[],
  job_key_preserve_run_at boolean default false
) returns setof :SPOOL_SCHEMA.jobs
language plpgsql as $body$
begin
  insert into :SPOOL_SCHEMA.tasks (identifier)
  select distinct s.identifier from unnest(specs) s
  on conflict do nothing;

  insert into :SPOOL_SCHEMA.job_queues (queue_name)
  select distinct s.queue_name from unnest(specs) s
   where s.queue_name is not null
  on conflict do nothing;

  -- A keyed job that is running or permanently failed is out of date: retire
  -- it (no key, no retries) so a new job takes the key.
  update :SPOOL_SCHEMA.jobs j
     set key = null, attempts = j.max_attempts, updated_at = now()
    from unnest(specs) s
   where s.job_key is not null
     and j.key = s.job_key
     and j.is_available is not true;

  return query
  insert into :SPOOL_SCHEMA.jobs as j
    (job_queue_id, task_id, payload, run_at, max_attempts, key, priority, flags)
  select
    q.id,
    t.id,
    coalesce(s.payload, '{}'::json),
    coalesce(s.run_at, now()),
    coalesce(s.max_attempts, 25),
    s.job_key,
    coalesce(s.priority, 0),
    (select jsonb_object_agg(f, true) from unnest(s.flags) as fl(f))
  from unnest(specs) s
  join :SPOOL_SCHEMA.tasks t on t.identifier = s.identifier
  left join :SPOOL_SCHEMA.job_queues q on q.queue_name = s.queue_name
  on conflict (key) do update
    set job_queue_id = excluded.job_queue_id,
        task_id = excluded.task_id,
        payload = excluded.payload,
        max_attempts = excluded.max_attempts,
        run_at = case
          when job_key_preserve_run_at is true and j.attempts = 0 then j.run_at
          else excluded.run_at
        end,
        priority = excluded.priority,
        revision = j.revision + 1,
        flags = excluded.flags,
        attempts = 0,
        last_error = null,
        updated_at = now()
    where j.locked_at is null
  returning *;
end;
$body$;

create function :SPOOL_SCHEMA.complete_jobs(job_ids bigint[]) returns setof :SPOOL_SCHEMA.jobs
language sql as $body$
  delete from :SPOOL_SCHEMA.jobs
   where id = any(job_ids)
     and (locked_at is null or locked_at < now() - interval '4 hours')
  returning *;
$body$;

create function :SPOOL_SCHEMA.permanently_fail_jobs(
  job_ids bigint[],
  error_message text default null::text
) returns setof :SPOOL_SCHEMA.jobs
language sql as $body$
  update :SPOOL_SCHEMA.jobs
     set last_error = coalesce(error_message, 'Manually marked as failed'),
         attempts = max_attempts,
         updated_at = now()
   where id = any(job_ids)
     and (locked_at is null or locked_at < now() - interval '4 hours')
  returning *;
$body$;

create function :SPOOL_SCHEMA.remove_job(job_key text) returns :SPOOL_SCHEMA.jobs
language plpgsql strict as $body$
declare
  v_result :SPOOL_SCHEMA.jobs;
begin
  delete from :SPOOL_SCHEMA.jobs j
   where j.key = job_key
     and (j.locked_at is null or j.locked_at < now() - interval '4 hours')
  returning * into v_result;
  if found then
    return v_result;
  end if;

  update :SPOOL_SCHEMA.jobs j
     set key = null, attempts = j.max_attempts, updated_at = now()
   where j.key = job_key
  returning * into v_result;
  return v_result;
end;
$body$;

create function :SPOOL_SCHEMA.reschedule_jobs(
  job_ids bigint[],
  run_at timestamptz default null::timestamptz,
  priority integer default null::integer,
  attempts integer default null::integer,
  max_attempts integer default null::integer
) returns setof :SPOOL_SCHEMA.jobs
language sql as $body$
  update :SPOOL_SCHEMA.jobs j
     set run_at = coalesce(reschedule_jobs.run_at, j.run_at),
         priority = coalesce(reschedule_jobs.priority, j.priority),
         attempts = coalesce(reschedule_jobs.attempts, j.attempts),
         max_attempts = coalesce(reschedule_jobs.max_attempts, j.max_attempts),
         updated_at = now()
   where j.id = any(job_ids)
     and (j.locked_at is null or j.locked_at < now() - interval '4 hours')
  returning *;
$body$;

create function :SPOOL_SCHEMA.tg_jobs__after_insert() returns trigger
language plpgsql as $body$
begin
  perform pg_notify('jobs:insert', '');
  return new;
end;
$body$;

create trigger _900_after_insert
  after insert on :SPOOL_SCHEMA.jobs
  for each statement execute procedure :SPOOL_SCHEMA.tg_jobs__after_insert();

create function :SPOOL_SCHEMA.add_job(
  identifier text,
  payload json default null::json,
  queue_name text default null::text,
  run_at timestamptz default null::timestamptz,
  max_attempts integer default null::integer,
  job_key text default null::text,
  priority integer default null::integer,
  flags text[] default null::text[],
  job_key_mode text default 'replace'::text
) returns :SPOOL_SCHEMA.jobs
language plpgsql as $body$
declare
  v_result :SPOOL_SCHEMA.jobs;
begin
  if job_key is null or job_key_mode is null or job_key_mode in ('replace', 'preserve_run_at') then
    select * into v_result
      from :SPOOL_SCHEMA.add_jobs(
        array[cast(row(
          identifier, payload, queue_name, run_at, max_attempts, job_key, priority, flags
        ) as :SPOOL_SCHEMA.job_spec)],
        (job_key_mode = 'preserve_run_at')
      )
     limit 1;
    return v_result;
  elsif job_key_mode = 'unsafe_dedupe' then
    insert into :SPOOL_SCHEMA.tasks (identifier) values (add_job.identifier)
    on conflict do nothing;
    if add_job.queue_name is not null then
      insert into :SPOOL_SCHEMA.job_queues (queue_name) values (add_job.queue_name)
      on conflict do nothing;
    end if;

    -- Keep whatever job already has this key, even one that is running.
    insert into :SPOOL_SCHEMA.jobs as j
      (job_queue_id, task_id, payload, run_at, max_attempts, key, priority, flags)
    select
      q.id,
      t.id,
      coalesce(add_job.payload, '{}'::json),
      coalesce(add_job.run_at, now()),
      coalesce(add_job.max_attempts, 25),
      add_job.job_key,
      coalesce(add_job.priority, 0),
      (select jsonb_object_agg(f, true) from unnest(add_job.flags) as fl(f))
    from :SPOOL_SCHEMA.tasks t
    left join :SPOOL_SCHEMA.job_queues q on q.queue_name = add_job.queue_name
    where t.identifier = add_job.identifier
    on conflict (key) do update
      set revision = j.revision + 1, updated_at = now()
    returning * into v_result;
    return v_result;
  else
    raise exception 'job_key_mode must be one of replace, preserve_run_at, unsafe_dedupe.'
      using errcode = 'GWBKM';
  end if;
end;
$body$;

-- Copy the rows over from the old tables, then drop them.
insert into :SPOOL_SCHEMA.job_queues (queue_name)
select distinct queue_name from :SPOOL_SCHEMA.jobs_legacy
 where queue_name is not null
on conflict do nothing;

insert into :SPOOL_SCHEMA.tasks (identifier)
select distinct task_identifier from :SPOOL_SCHEMA.jobs_legacy
on conflict do nothing;

insert into :SPOOL_SCHEMA.jobs (
  job_queue_id, task_id, payload, priority, run_at, attempts, max_attempts, last_error,
  created_at, updated_at, key, revision, flags
)
select
  q.id, t.id, old.payload, old.priority, old.run_at, old.attempts, old.max_attempts,
  old.last_error, old.created_at, old.updated_at, old.key, old.revision, old.flags
from :SPOOL_SCHEMA.jobs_legacy old
join :SPOOL_SCHEMA.tasks t on t.identifier = old.task_identifier
left join :SPOOL_SCHEMA.job_queues q on q.queue_name = old.queue_name;

drop table :SPOOL_SCHEMA.jobs_legacy;
drop table :SPOOL_SCHEMA.job_queues_legacy;
