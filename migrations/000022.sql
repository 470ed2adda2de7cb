-- Spool migration 22 (Spool's own, not breaking): a registry of running
-- workers for dead-worker recovery. Each worker with recovery enabled keeps a
-- row here and renews `last_heartbeat_at`; a sweeper releases the jobs of
-- workers whose heartbeat is too old. graphile-worker 0.18 creates nothing of
-- this name. The table has the same shape, and the two functions the same
-- signatures, as graphile_worker_rs's worker registry, so a database that a
-- Rust worker set up keeps its table (`if not exists`) and both can share it.

create table if not exists :SPOOL_SCHEMA._private_workers (
  id text primary key,
  last_heartbeat_at timestamptz not null,
  started_at timestamptz not null default now(),
  metadata jsonb
);

create index if not exists _private_workers_last_heartbeat_at_idx
  on :SPOOL_SCHEMA._private_workers (last_heartbeat_at);

-- Register the worker or renew its heartbeat; metadata is kept when null is passed.
create or replace function :SPOOL_SCHEMA.worker_heartbeat(
  worker_id text,
  metadata json default null::json
) returns void
language sql as $body$
  insert into :SPOOL_SCHEMA._private_workers as w (id, last_heartbeat_at, metadata)
  values (worker_heartbeat.worker_id, now(), worker_heartbeat.metadata::jsonb)
  on conflict (id) do update
    set last_heartbeat_at = now(),
      metadata = coalesce(excluded.metadata, w.metadata);
$body$;

-- Remove the worker's row (clean shutdown).
create or replace function :SPOOL_SCHEMA.worker_deregister(worker_id text) returns void
language sql as $body$
  delete from :SPOOL_SCHEMA._private_workers as w where w.id = worker_deregister.worker_id;
$body$;
