/**
 * Options of `createAdmin` and their checks: one `ValidationError` naming the
 * field for every problem, before anything is opened.
 *
 * @module
 */
import type { Driver } from "../driver/types.ts";
import { ValidationError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { validateSchemaName } from "../sql/ident.ts";
import type { WorkerUtils } from "../utils/worker_utils.ts";
import { checkBoolean, checkMillis, RECOVERY_DEFAULTS } from "../utils/workers_admin.ts";
import { checkInt, describe, rejectUnknownKeys } from "../utils/job_options.ts";
import { type AdminAuthOptions, checkAuth, type ResolvedAuth } from "./auth.ts";

/** Who did a write, what it was and how it ended; given to `onAction`. */
export interface AdminActionEvent {
  /** The authenticated actor (user name, token label, or what `authorize` returned). */
  actor: string;
  /** The actor's role. */
  role: "admin" | "viewer";
  /** E.g. `"jobs.add"`, `"jobs.fail"`, `"jobs.remove-by-key"`, `"maintenance.sweep"`. */
  action: string;
  /** Job ids acted on (requested ids, or those a filter matched). */
  ids?: string[];
  /** The filter of a filter action, as sent. */
  filter?: Record<string, unknown>;
  /** The JSON answer sent to the client. */
  result: unknown;
  /** When the action finished. */
  at: Date;
}

/** Options of {@linkcode createAdmin}. */
export interface AdminOptions {
  /** PostgreSQL URL; the admin opens (and `close()` closes) its own pool. */
  database?: string;
  /** A driver you built (never closed by the admin). */
  driver?: Driver;
  /** WorkerUtils you created (never released by the admin); its schema is used. */
  utils?: WorkerUtils;
  /** Schema of the job tables. @default {"graphile_worker"} */
  schema?: string;
  /** URL prefix the admin is served under; starts and ends with "/". @default {"/"} */
  basePath?: string;
  /** Authentication; required (see {@linkcode AdminAuthOptions}). */
  auth: AdminAuthOptions;
  /** Refuse every write with 403 `read_only`. @default {false} */
  readOnly?: boolean;
  /** Allow `POST api/maintenance {action: "migrate"}`. @default {false} */
  allowMigrate?: boolean;
  /** Serve `GET api/health` without authentication. @default {false} */
  publicHealth?: boolean;
  /** Milliseconds without a heartbeat after which a worker is shown stale. @default {300000} */
  staleThreshold?: number;
  /** Largest `limit` of `GET api/jobs` (at most 1000). @default {100} */
  maxPageSize?: number;
  /** Most jobs one filter action may touch (at most 100000). @default {1000} */
  maxActionJobs?: number;
  /** Largest request body in bytes. @default {1048576} */
  maxBodyBytes?: number;
  /** Above this many jobs (planner estimate), overview counts come from a sample. @default {100000} */
  exactCountLimit?: number;
  /** Milliseconds counts are reused for (all clients share them). @default {2000} */
  countCacheTtl?: number;
  /** Statement timeout of count queries, in milliseconds. @default {2000} */
  countTimeout?: number;
  /** Statement timeout of job pages and filter matches, in milliseconds (503 when hit). @default {10000} */
  queryTimeout?: number;
  /** Audit hook, awaited after each write; its errors are logged, never sent to the client. */
  onAction?: (event: AdminActionEvent) => void | Promise<void>;
  /** Where unexpected errors are logged (default: console, errors only). */
  logger?: Logger;
}

/** Options after checking, with defaults applied. */
export interface ResolvedAdminOptions {
  schema: string;
  basePath: string;
  auth: ResolvedAuth;
  readOnly: boolean;
  allowMigrate: boolean;
  publicHealth: boolean;
  staleThreshold: number;
  maxPageSize: number;
  maxActionJobs: number;
  maxBodyBytes: number;
  exactCountLimit: number;
  countCacheTtl: number;
  countTimeout: number;
  queryTimeout: number;
  onAction: ((event: AdminActionEvent) => void | Promise<void>) | undefined;
}

const KEYS: ReadonlySet<string> = new Set([
  "database",
  "driver",
  "utils",
  "schema",
  "basePath",
  "auth",
  "readOnly",
  "allowMigrate",
  "publicHealth",
  "staleThreshold",
  "maxPageSize",
  "maxActionJobs",
  "maxBodyBytes",
  "exactCountLimit",
  "countCacheTtl",
  "countTimeout",
  "queryTimeout",
  "onAction",
  "logger",
]);

/** Check `basePath`: absolute, no query or fragment; a missing trailing "/" is added. */
export function checkBasePath(value: unknown, field = "basePath"): string {
  if (typeof value !== "string" || !value.startsWith("/")) {
    throw new ValidationError(field, `must be a path starting with "/" (got ${describe(value)})`);
  }
  if (/[?#\s\\]/.test(value) || value.includes("//") || /(^|\/)\.\.?(\/|$)/.test(value)) {
    throw new ValidationError(
      field,
      `must be a plain path like "/ops/queue/" (no query, fragment, spaces, "//" or dot segments)`,
    );
  }
  return value.endsWith("/") ? value : `${value}/`;
}

/** Check every option (see {@linkcode AdminOptions}). */
export function checkAdminOptions(options: unknown): ResolvedAdminOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ValidationError("options", "must be an object like { database, auth }");
  }
  const o = options as Record<string, unknown>;
  rejectUnknownKeys(o, KEYS, "options");
  const sources = ["database", "driver", "utils"].filter((k) => o[k] !== undefined);
  if (sources.length !== 1) {
    throw new ValidationError(
      sources[1] ?? "database",
      sources.length === 0
        ? "give one of database (a URL), driver or utils"
        : `give only one of database, driver and utils (got ${sources.join(" and ")})`,
    );
  }
  if (o.database !== undefined && typeof o.database !== "string") {
    throw new ValidationError("database", "must be a postgres:// connection URL string");
  }
  if (o.driver !== undefined && typeof (o.driver as Driver)?.transaction !== "function") {
    throw new ValidationError("driver", "must be a Spool driver (e.g. postgresJs(sql))");
  }
  const utils = o.utils as WorkerUtils | undefined;
  if (utils !== undefined && typeof utils?.completeJobs !== "function") {
    throw new ValidationError("utils", "must be WorkerUtils from createWorkerUtils()");
  }
  let schema = o.schema === undefined ? undefined : validateSchemaName(o.schema);
  if (utils) {
    if (schema !== undefined && schema !== utils.schema) {
      throw new ValidationError(
        "schema",
        `differs from utils.schema ("${utils.schema}"); leave it out when passing utils`,
      );
    }
    schema = utils.schema;
  }
  if (o.onAction !== undefined && typeof o.onAction !== "function") {
    throw new ValidationError("onAction", "must be a function (event) => void");
  }
  if (o.logger !== undefined && typeof (o.logger as Logger)?.error !== "function") {
    throw new ValidationError("logger", "must be a Logger (debug, info, warn, error)");
  }
  const bool = (key: string) => o[key] === undefined ? false : checkBoolean(o[key], key);
  const int = (key: string, fallback: number, min: number, max: number) =>
    o[key] === undefined ? fallback : checkInt(o[key], key, min, max);
  const ms = (key: string, fallback: number, min: number) =>
    o[key] === undefined ? fallback : checkMillis(o[key], key, min);
  return {
    schema: schema ?? "graphile_worker",
    basePath: o.basePath === undefined ? "/" : checkBasePath(o.basePath),
    auth: checkAuth(o.auth),
    readOnly: bool("readOnly"),
    allowMigrate: bool("allowMigrate"),
    publicHealth: bool("publicHealth"),
    staleThreshold: ms("staleThreshold", RECOVERY_DEFAULTS.staleThreshold, 1),
    maxPageSize: int("maxPageSize", 100, 1, 1000),
    maxActionJobs: int("maxActionJobs", 1000, 1, 100_000),
    maxBodyBytes: int("maxBodyBytes", 1_048_576, 1024, 64 * 1_048_576),
    exactCountLimit: int("exactCountLimit", 100_000, 0, Number.MAX_SAFE_INTEGER),
    countCacheTtl: ms("countCacheTtl", 2000, 0),
    countTimeout: ms("countTimeout", 2000, 1),
    queryTimeout: ms("queryTimeout", 10_000, 1),
    onAction: o.onAction as ResolvedAdminOptions["onAction"],
  };
}
