/** Checks shared by `defineTask` and `defineBatchTask`, run at definition time. */
import { ValidationError } from "../errors.ts";

/** The common fields of a task definition, checked. */
export interface CheckedDefinition {
  identifier: string;
  schema: unknown;
  run: unknown;
}

/**
 * Check `options` of `fn` ("defineTask", "defineBatchTask"): an object with a
 * 1–128 character `identifier`, a zod schema under `schemaField`, and a `run`
 * function. Throws one {@linkcode ValidationError} naming the bad field.
 */
export function checkDefinition(
  options: unknown,
  fn: string,
  schemaField: "payload" | "item",
  schemaWhat: string,
): CheckedDefinition {
  if (typeof options !== "object" || options === null) {
    throw new ValidationError(fn, `expects { identifier, ${schemaField}, run }`);
  }
  const o = options as Record<string, unknown>;
  const identifier = o.identifier;
  if (typeof identifier !== "string" || identifier.length === 0) {
    throw new ValidationError("identifier", "must be a non-empty string of at most 128 characters");
  }
  const length = [...identifier].length;
  if (length > 128) {
    throw new ValidationError("identifier", `must be at most 128 characters (got ${length})`);
  }
  const schema = o[schemaField];
  if (
    typeof schema !== "object" || schema === null ||
    typeof (schema as { safeParse?: unknown }).safeParse !== "function"
  ) {
    throw new ValidationError(schemaField, `must be ${schemaWhat} (task "${identifier}")`);
  }
  if (typeof o.run !== "function") {
    throw new ValidationError("run", `must be a function (task "${identifier}")`);
  }
  return { identifier, schema, run: o.run };
}
