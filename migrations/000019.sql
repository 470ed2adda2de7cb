--! breaking-change
-- Spool migration 19: no schema change. It marks the switch of locked_by from
-- a worker id to a pool id (graphile-worker 0.17), which older workers must
-- not mix with.
select 1;
