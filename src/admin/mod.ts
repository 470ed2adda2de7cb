/**
 * Spool's admin HTTP API: one fetch handler to see and steer the queue, for
 * `Deno.serve`, `Bun.serve` or any fetch-based router, under a base path.
 *
 * @example
 * ```ts ignore
 * import { createAdmin } from "@spool/worker/admin";
 * const admin = createAdmin({
 *   database: "postgres://localhost/app",
 *   auth: { bearer: { token: Deno.env.get("ADMIN_TOKEN")! } },
 *   basePath: "/ops/queue/",
 * });
 * Deno.serve({ hostname: "127.0.0.1", port: 5678 }, admin.fetch);
 * ```
 *
 * @module
 */
export { type Admin, createAdmin } from "./create_admin.ts";
export type { AdminActionEvent, AdminOptions } from "./options.ts";
// The types of the main entry point, which this one's types name (erased at run time).
export type * from "../../mod.ts";
export type {
  AdminAuthOptions,
  AdminPrincipal,
  AdminRole,
  AuthorizeFn,
  BasicCredential,
  BearerCredential,
} from "./auth.ts";
export type { JobDto } from "./_dto.ts";
export { JOB_STATES, type JobState } from "../sql/admin_jobs.ts";
export { CSRF_HEADER } from "./_csrf.ts";
