import { ValidationError } from "../errors.ts";

/** Quote a PostgreSQL identifier (schema, table) so any name is safe in SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Check a schema name given by a user: non-empty, at most 63 bytes, no NUL. */
export function validateSchemaName(schema: unknown, field = "schema"): string {
  if (typeof schema !== "string" || schema.length === 0) {
    throw new ValidationError(field, "must be a non-empty string");
  }
  if (new TextEncoder().encode(schema).length > 63) {
    throw new ValidationError(field, "must be at most 63 bytes (PostgreSQL's identifier limit)");
  }
  if (schema.includes("\0")) throw new ValidationError(field, "must not contain NUL");
  return schema;
}
