/**
 * Configuration for the CLI: flags first, then environment variables, then
 * an optional config module (`--config ./spool.config.ts` or `SPOOL_CONFIG`).
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { AdminOptions } from "../admin/options.ts";
import type { AnyTaskDefinition, WorkerOptions } from "../worker/types.ts";
import { UsageError } from "./args.ts";
import type { CliIo } from "./_io.ts";

/**
 * What a config module exports (as `default` or `config`). Every field is
 * optional; flags and environment variables override it.
 *
 * @example
 * ```ts ignore
 * // spool.config.ts
 * import type { SpoolConfig } from "@spool/worker/cli";
 * import { tasks } from "./tasks.ts";
 * export default {
 *   database: "postgres://app@db:5432/app",
 *   tasks,
 *   worker: { concurrency: 8, plugins: [] },
 * } satisfies SpoolConfig;
 * ```
 */
export interface SpoolConfig {
  /** PostgreSQL connection URL (overridden by `--database` / `DATABASE_URL`). */
  database?: string;
  /** Worker schema (overridden by `--schema` / `SPOOL_SCHEMA`). @default {"graphile_worker"} */
  schema?: string;
  /** Task definitions, or the path of a module / directory of them, for `spool run`. */
  tasks?: string | readonly AnyTaskDefinition[];
  /** Further worker options for `spool run` (plugins, extensions, logger, …); flags override them. */
  worker?: Partial<Omit<WorkerOptions, "tasks" | "database" | "driver">>;
  /** Further options for `spool admin` (auth with `authorize`, `onAction`, …); flags override them. */
  admin?: Partial<Omit<AdminOptions, "database" | "driver" | "utils" | "schema">>;
}

/** Resolve a path given on the command line (or in the environment) against the working directory. */
export function resolvePath(io: CliIo, path: string): string {
  return isAbsolute(path) ? path : resolve(io.cwd(), path);
}

/** The package root (next to cli.ts); inside a compiled binary, its embedded file system. */
const PACKAGE_ROOT = new URL("../../", import.meta.url);

/**
 * Import a module by path, relative to the working directory. A relative
 * path that is not on disk is then looked up next to cli.ts: a binary made
 * by `deno compile --include ./tasks.ts cli.ts` embeds the module there.
 */
export async function importPath(io: CliIo, path: string): Promise<Record<string, unknown>> {
  const onDisk = pathToFileURL(resolvePath(io, path)).href;
  try {
    return await import(onDisk);
  } catch (error) {
    if (isAbsolute(path) || !/not found|cannot find|no such file/i.test(String(error))) throw error;
    try {
      return await import(new URL(path, PACKAGE_ROOT).href);
    } catch {
      throw error;
    }
  }
}

/** Load the config module named by `--config` or `SPOOL_CONFIG`, or an empty config. */
export async function loadConfig(io: CliIo, flag: string | undefined): Promise<SpoolConfig> {
  const path = flag ?? io.env("SPOOL_CONFIG");
  if (path === undefined || path === "") return {};
  const source = flag !== undefined ? "--config" : "SPOOL_CONFIG";
  let mod: Record<string, unknown>;
  try {
    mod = await importPath(io, path);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${source}: cannot load config module ${path}: ${why}`, source);
  }
  const config = mod.default ?? mod.config;
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new UsageError(
      `${source}: ${path} must export a config object (export default { database, … })`,
      source,
    );
  }
  return config as SpoolConfig;
}
