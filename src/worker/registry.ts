/**
 * The tasks a worker runs, by identifier.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import type { AnyTaskDefinition } from "./types.ts";

/** Tasks by identifier. */
export type TaskRegistry = ReadonlyMap<string, AnyTaskDefinition>;

/**
 * Index `tasks` by identifier.
 *
 * @throws {ValidationError} when two tasks share an identifier, or an identifier is empty or longer
 * than 128 characters.
 */
export function buildTaskRegistry(tasks: readonly AnyTaskDefinition[]): TaskRegistry {
  const registry = new Map<string, AnyTaskDefinition>();
  tasks.forEach((task, i) => {
    const id = task.identifier;
    if (id.length === 0 || [...id].length > 128) {
      throw new ValidationError(
        `tasks[${i}].identifier`,
        "must be a non-empty string of at most 128 characters",
      );
    }
    if (registry.has(id)) {
      throw new ValidationError(
        `tasks[${i}].identifier`,
        `"${id}" is used by two tasks; each task identifier may appear once per worker`,
      );
    }
    registry.set(id, task);
  });
  return registry;
}
