/**
 * Loading task definitions for `spool run --tasks`: a module, or a directory
 * whose modules each export tasks. From a module, tasks are taken from its
 * `default` export (a task, an array of tasks, or a factory function that
 * receives the {@linkcode TaskKit} and returns either), its `tasks` export,
 * or else every export that is a task definition.
 *
 * @module
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { AnyTaskDefinition } from "../worker/types.ts";
import { UsageError } from "./args.ts";
import { importPath, resolvePath } from "./config.ts";
import type { CliIo } from "./_io.ts";
import { type TaskKit, taskKit } from "./task_kit.ts";

const MODULE = /^[^._].*\.(ts|mts|js|mjs)$/;
const NOT_TASKS = /(_test|\.test|\.d)\.(ts|mts|js|mjs)$/;

/** Whether `value` looks like a task made with defineTask() or defineBatchTask(). */
export function isTaskDefinition(value: unknown): value is AnyTaskDefinition {
  const v = value as { identifier?: unknown; run?: unknown; payload?: { safeParse?: unknown } };
  return typeof v === "object" && v !== null && typeof v.identifier === "string" &&
    typeof v.run === "function" && typeof v.payload?.safeParse === "function";
}

/** The task definitions a module exports (see the module doc). */
export async function tasksOfModule(mod: Record<string, unknown>): Promise<AnyTaskDefinition[]> {
  for (const key of ["default", "tasks"]) {
    let v = mod[key];
    if (typeof v === "function") v = await (v as (kit: TaskKit) => unknown)(taskKit);
    if (Array.isArray(v) && v.every(isTaskDefinition)) return v;
    if (isTaskDefinition(v)) return [v];
  }
  return Object.values(mod).filter(isTaskDefinition);
}

/** Load the tasks of a module or a directory of modules; UsageError naming `source`. */
export async function loadTasks(
  io: CliIo,
  path: string,
  source: string,
): Promise<AnyTaskDefinition[]> {
  const full = resolvePath(io, path);
  let files: string[];
  try {
    const info = await stat(full);
    files = info.isDirectory()
      ? (await readdir(full)).filter((f) => MODULE.test(f) && !NOT_TASKS.test(f)).sort()
        .map((f) => join(path, f))
      : [path];
  } catch (error) {
    throw new UsageError(`${source}: cannot read ${path}: ${(error as Error).message}`, source);
  }
  const tasks: AnyTaskDefinition[] = [];
  for (const file of files) {
    let mod: Record<string, unknown>;
    try {
      mod = await importPath(io, file);
    } catch (error) {
      throw new UsageError(`${source}: cannot load ${file}: ${(error as Error).message}`, source);
    }
    tasks.push(...await tasksOfModule(mod));
  }
  if (tasks.length === 0) {
    throw new UsageError(
      `${source}: ${path} exports no task definitions (export tasks made with defineTask())`,
      source,
    );
  }
  return tasks;
}
