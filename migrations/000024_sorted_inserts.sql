-- Spool migration 24 (Spool's own, not breaking): add_jobs inserts new task
-- identifiers and queue names in sorted order. Before, two concurrent calls
-- that both added the same new queue names (or identifiers) in different
-- orders could deadlock on the unique index (40P01), seen with graphile-worker
-- and Spool adding jobs to one schema. Signature and behaviour are unchanged.

create or replace function :SPOOL_SCHEMA.add_jobs(
  specs :SPOOL_SCHEMA.job_spec[],
  job_key_preserve_run_at boolean default false
) returns setof :SPOOL_SCHEMA._private_jobs
language plpgsql as $body$
declare
  v_lock int;
begin
  -- New task identifiers and queue names are inserted in sorted order, so two
  -- calls adding the same new names never wait on each other's rows in a cycle.
  insert into :SPOOL_SCHEMA._private_tasks (identifier)
  select distinct s.identifier from unnest(specs) s
   where not exists (select 1 from :SPOOL_SCHEMA._private_tasks t where t.identifier = s.identifier)
   order by 1
  on conflict do nothing;

  insert into :SPOOL_SCHEMA._private_job_queues (queue_name)
  select distinct s.queue_name from unnest(specs) s
   where s.queue_name is not null
     and not exists (select 1 from :SPOOL_SCHEMA._private_job_queues q where q.queue_name = s.queue_name)
   order by 1
  on conflict do nothing;

  -- Serialise adders per key with a transaction advisory lock on the key's
  -- hash (taken in hash order, so two calls never wait on each other in a
  -- cycle), then row-lock the jobs that hold these keys. A worker's fetch
  -- (FOR UPDATE SKIP LOCKED) now skips them, so none can become locked between
  -- the retire step and the upsert below, and the upsert always returns a row.
  for v_lock in
    select distinct hashtext(s.job_key) from unnest(specs) s where s.job_key is not null order by 1
  loop
    perform pg_advisory_xact_lock(hashtext('spool.job_key'), v_lock);
  end loop;

  perform 1
     from :SPOOL_SCHEMA._private_jobs j
    where j.key in (select s.job_key from unnest(specs) s where s.job_key is not null)
    order by j.key
      for update of j;

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
