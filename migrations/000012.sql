-- Spool migration 12: add_jobs appends to an existing keyed job's payload
-- when both payloads are JSON arrays (batch jobs).

create or replace function :SPOOL_SCHEMA.add_jobs(
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
