/**
 * Error classes callers can catch. Every error Spool throws on purpose is a
 * `SpoolError` with a stable `code`.
 *
 * @module
 */

/** Stable error codes. */
export type SpoolErrorCode =
  | "INVALID_OPTION"
  | "INVALID_PAYLOAD"
  | "MIGRATION"
  | "DATABASE"
  | "DRIVER"
  | "NOT_SUPPORTED"
  | "SHUTDOWN"
  | "JOB_SKIPPED"
  | "JOB_REJECTED"
  | "HOOK_FAILED"
  | "JOB_ABORTED";

/**
 * Base class of every error Spool throws on purpose.
 *
 * @example
 * ```ts
 * import { SpoolError } from "@spool/worker";
 * try {
 *   // await utils.addJob(task, payload);
 * } catch (e) {
 *   if (e instanceof SpoolError) console.error(e.code, e.message);
 * }
 * ```
 */
export class SpoolError extends Error {
  /** Stable machine-readable code. */
  readonly code: SpoolErrorCode;
  /** Build an error with a `code` and a message; `options.cause` keeps the underlying error. */
  constructor(code: SpoolErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SpoolError";
    this.code = code;
  }
}

/**
 * A bad option or argument. `field` names what was wrong (dotted path).
 *
 * @example
 * ```ts
 * import { ValidationError } from "@spool/worker";
 * const e = new ValidationError("priority", "must be an integer from -32768 to 32767");
 * console.log(e.field, e.message);
 * ```
 */
export class ValidationError extends SpoolError {
  /** The field that was wrong, e.g. `"options.priority"`. */
  readonly field: string;
  /** `field` names what was wrong; the message reads `Invalid <field>: <expected>`. */
  constructor(field: string, expected: string, options?: ErrorOptions & { code?: SpoolErrorCode }) {
    super(options?.code ?? "INVALID_OPTION", `Invalid ${field}: ${expected}`, options);
    this.name = "ValidationError";
    this.field = field;
  }
}

/**
 * The database schema cannot be used by this version of Spool (for example a
 * newer breaking migration is installed), or a migration failed.
 *
 * @example
 * ```ts
 * import { MigrationError } from "@spool/worker";
 * const e = new MigrationError("schema is newer");
 * console.log(e.code); // "MIGRATION"
 * ```
 */
export class MigrationError extends SpoolError {
  /** Build the error from a message (and `options.cause`). */
  constructor(message: string, options?: ErrorOptions) {
    super("MIGRATION", message, options);
    this.name = "MigrationError";
  }
}

/**
 * A database call failed. `sqlState` carries PostgreSQL's SQLSTATE when known.
 *
 * @example
 * ```ts
 * import { DatabaseError } from "@spool/worker";
 * const e = new DatabaseError("add_job failed", "23505");
 * console.log(e.sqlState);
 * ```
 */
export class DatabaseError extends SpoolError {
  /** PostgreSQL SQLSTATE, e.g. `"23505"`. */
  readonly sqlState: string | undefined;
  /** Build the error; `sqlState` is PostgreSQL's SQLSTATE when known. */
  constructor(message: string, sqlState?: string, options?: ErrorOptions) {
    super("DATABASE", message, options);
    this.name = "DatabaseError";
    this.sqlState = sqlState;
  }
}
