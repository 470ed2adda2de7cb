/**
 * Helpers of the interop tests: graphile-worker 0.18 and Spool on one database.
 * A quiet graphile-worker logger that keeps its warnings, schemas migrated by
 * either side, untyped Spool tasks, and graphile-worker runner options.
 */
import { Logger, runMigrations as gwRunMigrations, type RunnerOptions } from "graphile-worker";
import postgres from "postgres";
import { z } from "zod";
import { adminSql, databaseUrl, uniqueSchema } from "../_db.ts";
import { postgresJs } from "../../src/driver/postgres_js.ts";
import { migrate } from "../../src/migrate/migrate.ts";
import { defineTask } from "../../src/task/define_task.ts";
import type { TaskContext, TaskDefinition } from "../../src/task/types.ts";

export { deferred, waitFor } from "../fixtures/worker_helpers.ts";

/** A graphile-worker logger that prints nothing and records warnings and errors. */
export interface GwLog {
  logger: Logger;
  /** Lines at level "warning" or "error". */
  lines: { level: string; message: string }[];
  warnings(): string[];
  errors(): string[];
}

/** A quiet graphile-worker `Logger` (debug/info dropped, warnings/errors recorded). */
export function graphileLogger(): GwLog {
  const lines: { level: string; message: string }[] = [];
  const logger = new Logger(() => (level, message) => {
    if (level === "warning" || level === "error") lines.push({ level, message });
  });
  return {
    logger,
    lines,
    warnings: () => lines.filter((l) => l.level === "warning").map((l) => l.message),
    errors: () => lines.filter((l) => l.level === "error").map((l) => l.message),
  };
}

/**
 * A database of its own for one test. `worker:migrate` and `jobs:insert` are
 * database-wide channels: a fresh install of any schema announces breaking
 * migrations, and graphile-worker shuts down on those whatever its schema.
 * A private database keeps other test files (and other schemas) out.
 */
export interface InteropDb {
  /** Connection URL of the private database. */
  url: string;
  /** The worker schema (graphile-worker's default name). */
  schema: string;
  /** Admin client on the private database. */
  sql: postgres.Sql;
}

/**
 * Create a private database, migrate `graphile_worker` in it with Spool or
 * with graphile-worker 0.18 (or not at all), run `fn`, then drop the database.
 */
export async function withDatabase(
  label: string,
  migrateBy: "spool" | "graphile" | "none",
  fn: (db: InteropDb) => Promise<void>,
): Promise<void> {
  const name = uniqueSchema(label);
  const admin = adminSql(1);
  await admin.unsafe(`create database "${name}"`);
  const parsed = new URL(databaseUrl());
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
  const schema = "graphile_worker";
  const sql = postgres(url, { max: 3, onnotice: () => {} });
  try {
    if (migrateBy === "spool") {
      const driver = postgresJs(url, { max: 1 });
      try {
        await migrate(driver, { schema });
      } finally {
        await driver.close();
      }
    } else if (migrateBy === "graphile") {
      await gwRunMigrations({ connectionString: url, schema, logger: graphileLogger().logger });
    }
    await fn({ url, schema, sql });
  } finally {
    await sql.end();
    // Pools that were just released may still be closing their connections.
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline) {
      const [row] = await admin.unsafe(
        `select count(*)::int as c from pg_stat_activity where datname = $1`,
        [name],
      );
      if (row.c === 0) break;
      await sleep(25);
    }
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

/** Options every graphile-worker runner in these tests shares. */
export function gwOptions(db: InteropDb, log: GwLog, extra: RunnerOptions = {}): RunnerOptions {
  return {
    connectionString: db.url,
    schema: db.schema,
    logger: log.logger,
    noHandleSignals: true,
    pollInterval: 50,
    crontab: "",
    maxPoolSize: 6,
    ...extra,
  };
}

/** Migration ids recorded in `<schema>.migrations`, ascending, with their breaking flag. */
export async function migrationRows(
  sql: postgres.Sql,
  schema: string,
): Promise<{ id: number; breaking: boolean }[]> {
  const rows = await sql.unsafe(
    `select id, breaking from "${schema}".migrations order by id`,
  );
  return rows.map((r) => ({ id: Number(r.id), breaking: Boolean(r.breaking) }));
}

/** An untyped Spool task (any JSON payload), for identifiers shared with graphile-worker. */
export function rawTask(
  identifier: string,
  run: (payload: unknown, ctx: TaskContext) => unknown | Promise<unknown>,
): TaskDefinition<unknown> {
  return defineTask({ identifier, payload: z.unknown(), run });
}

/** A job row with names resolved, as both sides leave it in the table. */
export interface TableJob {
  id: string;
  task_identifier: string;
  queue_name: string | null;
  payload: unknown;
  priority: number;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  key: string | null;
  locked_at: Date | null;
  locked_by: string | null;
  revision: number;
  flags: Record<string, boolean> | null;
  is_available: boolean;
}

/** Every row of `_private_jobs` (names resolved), ordered by id. */
export async function tableJobs(sql: postgres.Sql, schema: string): Promise<TableJob[]> {
  const s = `"${schema}"`;
  const rows = await sql.unsafe(
    `select j.id::text as id, t.identifier as task_identifier, q.queue_name, j.payload,
       j.priority, j.run_at, j.attempts, j.max_attempts, j.last_error, j.key,
       j.locked_at, j.locked_by, j.revision, j.flags, j.is_available
     from ${s}._private_jobs j
     join ${s}._private_tasks t on t.id = j.task_id
     left join ${s}._private_job_queues q on q.id = j.job_queue_id
     order by j.id`,
  );
  return [...rows] as unknown as TableJob[];
}

/** Sleep `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
