-- Spool migration 20: add_job/add_jobs insert a task or queue row only when
-- it is missing, so existing names do not use up identity values.

create or replace function :SPOOL_SCHEMA.add_job(
  identifier text,
  payload json default null::json,
  queue_name text default null::text,
  run_at timestamptz default null::timestamptz,
  max_attempts integer default null::integer,
  job_key text default null::text,
  priority integer default null::integer,
  flags text[] default null::text[],
  job_key_mode text default 'replace'::text
) returns :SPOOL_SCHEMA._private_jobs
language plpgsql as $body$
declare
  v_result :SPOOL_SCHEMA._private_jobs;
begin
  if job_key is null or job_key_mode is null or job_key_mode in ('replace', 'preserve_run_at') then
    select * into v_result
      from :SPOOL_SCHEMA.add_jobs(
        array[cast(row(
          identifier, payload, queue_name, run_at, max_attempts::smallint, job_key, priority::smallint, flags
        ) as :SPOOL_SCHEMA.job_spec)],
        (job_key_mode = 'preserve_run_at')
      )
     limit 1;
    return v_result;
  elsif job_key_mode = 'unsafe_dedupe' then
    insert into :SPOOL_SCHEMA._private_tasks (identifier)
    select add_job.identifier
     where not exists (select 1 from :SPOOL_SCHEMA._private_tasks t where t.identifier = add_job.identifier)
    on conflict do nothing;
    if add_job.queue_name is not null then
      insert into :SPOOL_SCHEMA._private_job_queues (queue_name)
      select add_job.queue_name
       where not exists (select 1 from :SPOOL_SCHEMA._private_job_queues q where q.queue_name = add_job.queue_name)
      on conflict do nothing;
    end if;

    -- Keep whatever job already has this key, even one that is running.
    insert into :SPOOL_SCHEMA._private_jobs as j
      (job_queue_id, task_id, payload, run_at, max_attempts, key, priority, flags)
    select
      q.id,
      t.id,
      coalesce(add_job.payload, '{}'::json),
      coalesce(add_job.run_at, now()),
      coalesce(add_job.max_attempts::smallint, 25::smallint),
      add_job.job_key,
      coalesce(add_job.priority::smallint, 0::smallint),
      (select jsonb_object_agg(f, true) from unnest(add_job.flags) as fl(f))
    from :SPOOL_SCHEMA._private_tasks t
    left join :SPOOL_SCHEMA._private_job_queues q on q.queue_name = add_job.queue_name
    where t.identifier = add_job.identifier
    on conflict (key) do update
      set revision = j.revision + 1, updated_at = now()
    returning * into v_result;
    -- Wake workers only when a new job was inserted (not on a dedupe hit).
    if v_result.revision = 0 then
      perform pg_notify('jobs:insert', '{"r":' || random()::text || ',"count":1}');
    end if;
    return v_result;
  else
    raise exception 'job_key_mode must be one of replace, preserve_run_at, unsafe_dedupe.'
      using errcode = 'GWBKM';
  end if;
end;
$body$;

create or replace function :SPOOL_SCHEMA.add_jobs(
  specs :SPOOL_SCHEMA.job_spec[],
  job_key_preserve_run_at boolean default false
) returns setof :SPOOL_SCHEMA._private_jobs
language plpgsql as $body$
begin
  insert into :SPOOL_SCHEMA._private_tasks (identifier)
  select distinct s.identifier from unnest(specs) s
   where not exists (select 1 from :SPOOL_SCHEMA._private_tasks t where t.identifier = s.identifier)
  on conflict do nothing;

  insert into :SPOOL_SCHEMA._private_job_queues (queue_name)
  select distinct s.queue_name from unnest(specs) s
   where s.queue_name is not null
     and not exists (select 1 from :SPOOL_SCHEMA._private_job_queues q where q.queue_name = s.queue_name)
  on conflict do nothing;

  -- A keyed job that is running or permanently failed is out of date: retire
  -- it (no key, no retries) so a new job takes the key.
  update :SPOOL_SCHEMA._private_jobs j
     set key = null, attempts = j.max_attempts, updated_at = now()
    from unnest(specs) s
   where s.job_key is not null
     and j.key = s.job_key
     and j.is_available is not true;

  -- One wake-up per call; the count may overstate (updated keyed jobs count too).
  perform pg_notify('jobs:insert', '{"r":' || random()::text || ',"count":' || array_length(specs, 1)::text || '}');

  return query
  insert into :SPOOL_SCHEMA._private_jobs as j
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
  join :SPOOL_SCHEMA._private_tasks t on t.identifier = s.identifier
  left join :SPOOL_SCHEMA._private_job_queues q on q.queue_name = s.queue_name
  on conflict (key) do update
    set job_queue_id = excluded.job_queue_id,
        task_id = excluded.task_id,
        payload = case
          when json_typeof(j.payload) = 'array' and json_typeof(excluded.payload) = 'array'
            then (j.payload::jsonb || excluded.payload::jsonb)::json
          else excluded.payload
        end,
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
