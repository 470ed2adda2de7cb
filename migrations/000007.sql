-- Spool migration 7: job_key_mode for add_job ('replace', 'preserve_run_at',
-- 'unsafe_dedupe'); remove_job retires a job a worker holds instead of skipping it.

drop function :SPOOL_SCHEMA.add_job(text, json, text, timestamptz, int, text, int, text[]);

create function :SPOOL_SCHEMA.add_job(
  identifier text,
  payload json = null,
  queue_name text = null,
  run_at timestamptz = null,
  max_attempts integer = null,
  job_key text = null,
  priority integer = null,
  flags text[] = null,
  job_key_mode text = 'replace'
) returns :SPOOL_SCHEMA.jobs
language plpgsql volatile as $body$
declare
  v_result :SPOOL_SCHEMA.jobs;
  v_flags jsonb := (select jsonb_object_agg(f, true) from unnest(flags) as t(f));
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

  if job_key is not null and (job_key_mode is null or job_key_mode in ('replace', 'preserve_run_at')) then
    -- Update the keyed job unless a worker holds it; a held job is out of date,
    -- so it is retired below and a new job is added.
    insert into :SPOOL_SCHEMA.jobs as j
      (task_identifier, payload, queue_name, run_at, max_attempts, key, priority, flags)
    values (
      identifier, coalesce(payload, '{}'::json), queue_name, coalesce(run_at, now()),
      coalesce(max_attempts, 25), job_key, coalesce(priority, 0), v_flags
    )
    on conflict (key) do update
      set task_identifier = excluded.task_identifier,
          payload = excluded.payload,
          queue_name = excluded.queue_name,
          max_attempts = excluded.max_attempts,
          run_at = case
            when job_key_mode = 'preserve_run_at' and j.attempts = 0 then j.run_at
            else excluded.run_at
          end,
          priority = excluded.priority,
          revision = j.revision + 1,
          flags = excluded.flags,
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
  elsif job_key is not null and job_key_mode = 'unsafe_dedupe' then
    -- Keep whatever job already has this key, even one that is running.
    insert into :SPOOL_SCHEMA.jobs as j
      (task_identifier, payload, queue_name, run_at, max_attempts, key, priority, flags)
    values (
      identifier, coalesce(payload, '{}'::json), queue_name, coalesce(run_at, now()),
      coalesce(max_attempts, 25), job_key, coalesce(priority, 0), v_flags
    )
    on conflict (key) do update set revision = j.revision + 1
    returning * into v_result;
    return v_result;
  elsif job_key is not null then
    raise exception 'job_key_mode must be one of replace, preserve_run_at, unsafe_dedupe.'
      using errcode = 'GWBKM';
  end if;

  insert into :SPOOL_SCHEMA.jobs
    (task_identifier, payload, queue_name, run_at, max_attempts, key, priority, flags)
  values (
    identifier, coalesce(payload, '{}'::json), queue_name, coalesce(run_at, now()),
    coalesce(max_attempts, 25), job_key, coalesce(priority, 0), v_flags
  )
  returning * into v_result;
  return v_result;
end;
$body$;

create or replace function :SPOOL_SCHEMA.remove_job(job_key text) returns :SPOOL_SCHEMA.jobs
language plpgsql strict as $body$
declare
  v_result :SPOOL_SCHEMA.jobs;
begin
  delete from :SPOOL_SCHEMA.jobs j
   where j.key = job_key and j.locked_at is null
  returning * into v_result;
  if found then
    return v_result;
  end if;

  -- A worker holds it: stop further retries and free the key.
  update :SPOOL_SCHEMA.jobs j
     set attempts = j.max_attempts, key = null
   where j.key = job_key
  returning * into v_result;
  return v_result;
end;
$body$;
