/**
 * What a route handler gets: the request, the caller, the checked options and
 * the database handles.
 *
 * @module
 */
import type { Driver } from "../driver/types.ts";
import type { Logger } from "../logger.ts";
import type { WorkerUtils } from "../utils/worker_utils.ts";
import type { AdminPrincipal } from "./auth.ts";
import type { CountsSnapshot } from "./_counts.ts";
import type { ResolvedAdminOptions } from "./options.ts";

/** Per-request context of a route handler. */
export interface AdminContext {
  request: Request;
  url: URL;
  /** Path segments after `{basePath}api/`, e.g. `["jobs", "42"]`. */
  segments: string[];
  principal: AdminPrincipal;
  opts: ResolvedAdminOptions;
  utils: WorkerUtils;
  db: Driver;
  counts: { get(): Promise<CountsSnapshot> };
  logger: Logger;
}

/** A route handler. */
export type Handler = (ctx: AdminContext) => Promise<Response>;
