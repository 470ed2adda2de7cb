/**
 * The `spool` command line: run workers, migrate, add and manage jobs,
 * inspect workers, check crontabs, serve health checks.
 *
 * ```sh
 * deno run -A jsr:@spool/worker/cli run --tasks ./tasks.ts --health-port 8080
 * bun cli.ts jobs list --state failed
 * ```
 *
 * Importing this module runs nothing; running it as the main module does.
 *
 * @example
 * ```ts ignore
 * import { main } from "@spool/worker/cli";
 * const code = await main(["stats", "--json"]);
 * ```
 *
 * @module
 */
import process from "node:process";
import { setTimeout } from "node:timers";
import { main } from "./src/cli/main.ts";

export { main } from "./src/cli/main.ts";
export type { CliIo } from "./src/cli/_io.ts";
export type { SpoolConfig } from "./src/cli/config.ts";
export type { TaskKit } from "./src/cli/task_kit.ts";
// The types of the main and admin entry points, which this one's types name (erased at run time).
export type * from "./mod.ts";
export type * from "./src/admin/mod.ts";
export {
  checkReadiness,
  type HealthCheck,
  healthHandler,
  type HealthOptions,
  type ReadinessReport,
} from "./src/cli/health.ts";

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  // End by itself once output has drained; exit anyway if a library left a handle open.
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1000).unref();
}
