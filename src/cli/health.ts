/**
 * Health endpoints for a long-lived worker: `GET /healthz` answers 200 while
 * the process is alive; `GET /readyz` answers 200 only when the worker is
 * running, the database answers, LISTEN is up and the heartbeat is recent,
 * and 503 otherwise (while draining after SIGTERM, while the database is
 * unreachable). Nothing is cached: a probe after the database came back sees
 * it at once. Runtime-neutral: a fetch handler for `Deno.serve`, `Bun.serve`
 * or any router.
 *
 * @example
 * ```ts ignore
 * import { createWorker } from "@spool/worker";
 * import { healthHandler } from "@spool/worker/health";
 *
 * const worker = await createWorker({ database: Deno.env.get("DATABASE_URL"), tasks: [] });
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 8080 }, healthHandler(worker));
 * await worker.run(); // SIGTERM: /readyz turns 503 while the worker drains
 * await server.shutdown();
 * ```
 *
 * @module
 */
import type { Worker } from "../worker/types.ts";
import { databasePing } from "../sql/ping.ts";
// The types of the main entry point, which this one's types name (erased at run time).
export type * from "../../mod.ts";

/** Options of {@linkcode healthHandler}. */
export interface HealthOptions {
  /** Milliseconds the database check may take before it counts as down. @default {2000} */
  databaseTimeout?: number;
  /** The heartbeat is stale after this many heartbeat intervals without a renewal. @default {3} */
  heartbeatIntervals?: number;
}

/** One readiness check's outcome. */
export interface HealthCheck {
  /** Whether the check passed. */
  ok: boolean;
  /** Why it failed (or a detail when it passed). */
  detail?: string;
}

/** The `/readyz` body. */
export interface ReadinessReport {
  /** "ok" (200) or "unavailable" (503). */
  status: "ok" | "unavailable";
  /** Each check by name: `worker`, `database`, `listen`, `heartbeat`. */
  checks: Record<"worker" | "database" | "listen" | "heartbeat", HealthCheck>;
}

const json = (body: unknown, status: number): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Run the readiness checks of `worker` (see {@linkcode healthHandler}). */
export async function checkReadiness(
  worker: Worker,
  options: HealthOptions = {},
): Promise<ReadinessReport> {
  const timeout = options.databaseTimeout ?? 2000;
  const intervals = options.heartbeatIntervals ?? 3;
  const status = worker.status();
  const workerCheck: HealthCheck = status.state === "running" ? { ok: true } : {
    ok: false,
    detail: status.state === "stopping"
      ? "shutting down (draining running jobs)"
      : status.state === "stopped"
      ? "stopped"
      : "not started",
  };
  let database: HealthCheck;
  try {
    const driver = await withTimeout(worker.utils.getDriver(), timeout, "the driver");
    await withTimeout(databasePing(driver), timeout, "the database");
    database = { ok: true };
  } catch (error) {
    database = { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
  const listen: HealthCheck = status.listening === false
    ? { ok: false, detail: "the LISTEN connection is down (reconnecting)" }
    : { ok: true, detail: status.listening === null ? "not subscribed (polling)" : undefined };
  let heartbeat: HealthCheck = { ok: true, detail: "recovery off" };
  if (status.heartbeatInterval !== null) {
    const last = status.lastHeartbeatAt?.getTime();
    const age = last === undefined ? undefined : Date.now() - last;
    heartbeat = age === undefined
      ? { ok: false, detail: "no heartbeat yet (starting)" }
      : age > intervals * status.heartbeatInterval
      ? { ok: false, detail: `last heartbeat ${Math.round(age / 1000)} s ago` }
      : { ok: true, detail: `last heartbeat ${Math.round(age / 1000)} s ago` };
  }
  const checks = { worker: workerCheck, database, listen, heartbeat };
  const ok = Object.values(checks).every((c) => c.ok);
  return { status: ok ? "ok" : "unavailable", checks };
}

/**
 * A fetch handler answering `GET /healthz` (200 `{"status":"ok"}` while the
 * process runs) and `GET /readyz` (200 or 503 with a {@linkcode ReadinessReport}).
 * Other paths get 404, other methods 405.
 *
 * @example
 * ```ts ignore
 * import { healthHandler } from "@spool/worker/health";
 * Bun.serve({ hostname: "127.0.0.1", port: 8080, fetch: healthHandler(worker) });
 * ```
 */
export function healthHandler(
  worker: Worker,
  options: HealthOptions = {},
): (request: Request) => Promise<Response> {
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (path !== "/healthz" && path !== "/readyz") return json({ error: "not found" }, 404);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json({ error: "method not allowed" }, 405);
    }
    if (path === "/healthz") return json({ status: "ok" }, 200);
    const report = await checkReadiness(worker, options);
    return json(report, report.status === "ok" ? 200 : 503);
  };
}
