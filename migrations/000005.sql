-- Spool migration 5: job revisions and flags; get_job can skip flagged jobs.

alter table :SPOOL_SCHEMA.jobs add column revision int default 0 not null;
alter table :SPOOL_SCHEMA.jobs add column flags jsonb default null;

drop function :SPOOL_SCHEMA.add_job(text, json, text, timestamptz, int, text, int);

create function :SPOOL_SCHEMA.add_job(
  identifier text,
  payload json = null,
  queue_name text = null,
  run_at timestamptz = null,
  max_attempts int = null,
  job_key text = null,
  priority int = null,
  flags text[] = null
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

  if job_key is not null then
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
          run_at = excluded.run_at,
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

drop function :SPOOL_SCHEMA.get_job(text, text[], interval);

create function :SPOOL_SCHEMA.get_job(
  worker_id text,
  task_identifiers text[] = null,
  job_expiry interval = interval '4 hours',
  forbidden_flags text[] = null
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
     and (forbidden_flags is null or (j.flags ?| forbidden_flags) is not true)
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
