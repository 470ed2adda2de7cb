-- Spool migration 8: bookkeeping for distributed cron.

create table :SPOOL_SCHEMA.known_crontabs (
  identifier text not null primary key,
  known_since timestamptz not null,
  last_execution timestamptz
);
alter table :SPOOL_SCHEMA.known_crontabs enable row level security;
