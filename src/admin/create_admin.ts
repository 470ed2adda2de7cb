/**
 * `createAdmin`: the admin HTTP server as one fetch handler. It routes
 * `{basePath}api/...` to the JSON API (authenticated, writes CSRF-checked)
 * and every other GET under `basePath` to the dashboard's files.
 *
 * @module
 */
import { errorSqlState } from "../driver/_sqlstate.ts";
import { ValidationError } from "../errors.ts";
import { consoleLogger, type Logger } from "../logger.ts";
import { createWorkerUtils, type WorkerUtils } from "../utils/worker_utils.ts";
import { authenticate } from "./auth.ts";
import type { AdminContext, Handler } from "./_context.ts";
import { createCounts } from "./_counts.ts";
import { checkCsrf } from "./_csrf.ts";
import { AdminHttpError, errorResponse, withSecurityHeaders } from "./_http.ts";
import { type AdminOptions, checkAdminOptions } from "./options.ts";
import { getMetrics } from "./metrics.ts";
import * as read from "./routes_read.ts";
import * as write from "./routes_write.ts";
import { serveUi } from "./ui/serve.ts";

/** The admin server: a fetch handler plus `close()`. */
export interface Admin extends AsyncDisposable {
  /** Answer one request (mount it in `Deno.serve`, `Bun.serve` or a router). */
  fetch(request: Request): Promise<Response>;
  /** Close the pool the admin opened from `database` (a driver or utils you passed stay open). */
  close(): Promise<void>;
}

interface Route {
  /** Path segments after `api/`; ":id" matches one segment. */
  path: string[];
  method: "GET" | "POST";
  handler: Handler;
  write?: boolean;
}

const ROUTES: Route[] = [
  { method: "GET", path: ["health"], handler: read.getHealth },
  { method: "GET", path: ["session"], handler: read.getSession },
  { method: "GET", path: ["overview"], handler: read.getOverview },
  { method: "GET", path: ["jobs"], handler: read.getJobs },
  { method: "POST", path: ["jobs"], handler: write.postJob, write: true },
  { method: "GET", path: ["jobs", ":id"], handler: read.getJob },
  { method: "POST", path: ["jobs", "actions"], handler: write.postJobActions, write: true },
  { method: "POST", path: ["jobs", "remove-by-key"], handler: write.postRemoveByKey, write: true },
  { method: "GET", path: ["tasks"], handler: read.getTasks },
  { method: "GET", path: ["queues"], handler: read.getQueues },
  { method: "GET", path: ["workers"], handler: read.getWorkers },
  { method: "GET", path: ["crontabs"], handler: read.getCrontabs },
  { method: "GET", path: ["metrics"], handler: getMetrics },
  { method: "POST", path: ["maintenance"], handler: write.postMaintenance, write: true },
];

function matches(route: Route, segments: string[]): boolean {
  if (route.path.length !== segments.length) return false;
  return route.path.every((p, i) =>
    p === ":id"
      ? segments[i] !== "" && !ROUTES.some((r) => r.path[i] === segments[i])
      : p === segments[i]
  );
}

/** Map an error to the envelope; anything unexpected is logged and answered 500 without details. */
function toHttpError(error: unknown, logger: Logger): AdminHttpError {
  if (error instanceof AdminHttpError) return error;
  if (error instanceof ValidationError) {
    // WorkerUtils names fields after its own arguments; name them after the body's.
    const field = error.field.replace(/^options\./, "").replace(/^identifier$/, "taskIdentifier");
    const message = error.message.replace(/^Invalid [^:]+: /, "");
    return new AdminHttpError("validation", `${field}: ${message}`, field);
  }
  if (errorSqlState(error) === "57014") {
    return new AdminHttpError(
      "unavailable",
      "the query took too long and was cancelled; retry later",
    );
  }
  logger.error("admin request failed", {
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
  return new AdminHttpError("internal", "internal error");
}

/**
 * Create the admin HTTP server (JSON API under `{basePath}api/`, dashboard
 * under `basePath`). Creation does no I/O. Auth is required.
 *
 * @example
 * ```ts ignore
 * import { createAdmin } from "@spool/worker/admin";
 * const admin = createAdmin({
 *   database: "postgres://localhost/app",
 *   auth: { basic: { username: "ops", password: Deno.env.get("ADMIN_PASSWORD")! } },
 * });
 * Deno.serve({ hostname: "127.0.0.1", port: 5678 }, admin.fetch);
 * ```
 */
export function createAdmin(options: AdminOptions): Admin {
  const opts = checkAdminOptions(options);
  const logger = options.logger ?? consoleLogger({ level: "error", scope: "spool-admin" });
  const owned = options.utils === undefined;
  const utils: WorkerUtils = options.utils ??
    createWorkerUtils({ database: options.database, driver: options.driver, schema: opts.schema });
  const counts = createCounts(() => utils.getDriver(), opts);
  const base = opts.basePath;

  const api = async (request: Request, url: URL, rel: string): Promise<Response> => {
    const segments = rel === "api" ? [] : rel.slice("api/".length).split("/");
    const candidates = ROUTES.filter((r) => matches(r, segments));
    if (candidates.length === 0) {
      throw new AdminHttpError("not_found", `no API route ${url.pathname}`);
    }
    const method = request.method === "HEAD" ? "GET" : request.method;
    const route = candidates.find((r) => r.method === method);
    if (!route) {
      const allow = candidates.map((r) => r.method === "GET" ? "GET, HEAD" : r.method).join(", ");
      throw new AdminHttpError(
        "method_not_allowed",
        `${request.method} is not allowed here (allowed: ${allow})`,
        undefined,
        { Allow: allow },
      );
    }
    const isPublic = route.handler === read.getHealth && opts.publicHealth;
    const principal = isPublic
      ? { actor: "anonymous", role: "viewer" as const }
      : await authenticate(request, opts.auth);
    if (principal instanceof Response) return principal;
    if (route.write) {
      checkCsrf(request, url);
      if (opts.readOnly) {
        throw new AdminHttpError("read_only", "the admin is read-only; writes are refused");
      }
      if (principal.role !== "admin") {
        throw new AdminHttpError("forbidden", `${principal.actor} is a viewer and may not write`);
      }
    }
    const ctx: AdminContext = {
      request,
      url,
      segments,
      principal,
      opts,
      utils,
      db: await utils.getDriver(),
      counts,
      logger,
    };
    const response = await route.handler(ctx);
    return request.method === "HEAD" ? new Response(null, response) : response;
  };

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname;
    if (base !== "/" && path === base.slice(0, -1)) {
      return new Response(null, {
        status: 308,
        headers: { Location: `${base}${url.search}` },
      });
    }
    if (!path.startsWith(base)) throw new AdminHttpError("not_found", "not found");
    const rel = path.slice(base.length);
    if (rel === "api" || rel.startsWith("api/")) return await api(request, url, rel);
    if (request.method !== "GET" && request.method !== "HEAD") {
      throw new AdminHttpError(
        "method_not_allowed",
        "only GET and HEAD are allowed here",
        undefined,
        {
          Allow: "GET, HEAD",
        },
      );
    }
    const ui = await serveUi(request, rel, { basePath: base });
    if (!ui) throw new AdminHttpError("not_found", "not found");
    return ui;
  };

  const admin: Admin = {
    async fetch(request: Request): Promise<Response> {
      try {
        return withSecurityHeaders(await handle(request));
      } catch (error) {
        return withSecurityHeaders(errorResponse(toHttpError(error, logger)));
      }
    },
    async close(): Promise<void> {
      if (owned) await utils.release();
    },
    [Symbol.asyncDispose](): Promise<void> {
      return admin.close();
    },
  };
  return admin;
}
