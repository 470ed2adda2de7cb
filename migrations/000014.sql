--! breaking-change
-- Spool migration 14: the public add_job/reschedule_jobs parameters are int
-- again; values are narrowed to smallint inside.

drop function :SPOOL_SCHEMA.add_job;
create function :SPOOL_SCHEMA.add_job(
  identifier text,
  payload json default null::json,
  queue_name text default null::text,
  run_at timestamptz default null::timestamptz,
  max_attempts int default null::int,
  job_key text default null::text,
  priority int default null::int,
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
          identifier, payload, queue_name, run_at, max_attempts::smallint, job_key, priority::smallint, flags
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
      coalesce(add_job.max_attempts::smallint, 25::smallint),
      add_job.job_key,
      coalesce(add_job.priority::smallint, 0::smallint),
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

drop function :SPOOL_SCHEMA.reschedule_jobs;
create function :SPOOL_SCHEMA.reschedule_jobs(
  job_ids bigint[],
  run_at timestamptz default null::timestamptz,
  priority int default null::int,
  attempts int default null::int,
  max_attempts int default null::int
) returns setof :SPOOL_SCHEMA.jobs
language sql as $body$
  update :SPOOL_SCHEMA.jobs j
     set run_at = coalesce(reschedule_jobs.run_at, j.run_at),
         priority = coalesce(reschedule_jobs.priority::smallint, j.priority),
         attempts = coalesce(reschedule_jobs.attempts::smallint, j.attempts),
         max_attempts = coalesce(reschedule_jobs.max_attempts::smallint, j.max_attempts),
         updated_at = now()
   where j.id = any(job_ids)
     and (j.locked_at is null or j.locked_at < now() - interval '4 hours')
  returning *;
$body$;
