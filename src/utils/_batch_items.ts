/**
 * Checks of batch items, shared by the add path (`addBatchJob`, which throws
 * ValidationErrors) and the worker (which fails the job with the message).
 *
 * @module
 */
import type { z } from "zod";
import { ValidationError } from "../errors.ts";
import type { BatchTaskDefinition } from "../task/types.ts";
import { describe } from "./job_options.ts";
import { jsonProblem } from "./_json_check.ts";
import { withoutTrace } from "../internal/trace_payload.ts";

/** At most this many items are named in one message. */
export const MAX_LISTED = 20;

/** zod's issues as one line: `path: message; path: message`. */
export function zodIssues(error: z.ZodError): string {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  }).join("; ");
}

/** Join `[i] text` parts, naming at most {@linkcode MAX_LISTED} of them. */
export function listParts(parts: readonly string[]): string {
  const shown = parts.slice(0, MAX_LISTED).join("; ");
  return parts.length > MAX_LISTED ? `${shown}; … and ${parts.length - MAX_LISTED} more` : shown;
}

/** Check that `task` is a batch task from `defineBatchTask`. */
export function checkBatchTask(task: unknown, field = "task"): BatchTaskDefinition<unknown> {
  const t = task as Partial<BatchTaskDefinition<unknown>> | null;
  if (
    typeof t !== "object" || t === null || t.kind !== "batch" ||
    typeof t.identifier !== "string" ||
    typeof (t.item as { safeParse?: unknown } | undefined)?.safeParse !== "function"
  ) {
    throw new ValidationError(
      field,
      "must be a batch task from defineBatchTask() (use addJob for tasks from defineTask)",
    );
  }
  return t as BatchTaskDefinition<unknown>;
}

/**
 * Check items given to `addBatchJob`: a non-empty array, every item matching
 * the item schema and JSON-serialisable. Throws a ValidationError naming
 * `items` or `items[i]`.
 */
export function checkBatchItemsForAdd(
  task: BatchTaskDefinition<unknown>,
  items: unknown,
): readonly unknown[] {
  if (!Array.isArray(items)) {
    throw new ValidationError(
      "items",
      `must be an array of items for batch task "${task.identifier}" (got ${describe(items)})`,
    );
  }
  if (items.length === 0) {
    throw new ValidationError(
      "items",
      `must hold at least one item: a batch job of task "${task.identifier}" cannot be empty`,
    );
  }
  items.forEach((item, i) => {
    const result = task.item.safeParse(withoutTrace(item));
    if (!result.success) {
      throw new ValidationError(
        `items[${i}]`,
        `does not match the item schema of batch task "${task.identifier}": ${
          zodIssues(result.error)
        }`,
        { code: "INVALID_PAYLOAD", cause: result.error },
      );
    }
    const problem = jsonProblem(item, `items[${i}]`);
    if (problem) {
      throw new ValidationError(`items[${i}]`, `must be JSON-serialisable: ${problem}`, {
        code: "INVALID_PAYLOAD",
      });
    }
  });
  return items;
}

/** A stored batch payload after checking: the parsed items, or why it cannot run. */
export type StoredBatch =
  | { ok: true; raw: readonly unknown[]; items: unknown[] }
  | { ok: false; reason: string };

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/**
 * Check a stored payload before a batch task runs: it must be a non-empty
 * JSON array whose every item matches the item schema. The reason names the
 * failing indexes and zod's messages.
 */
export function parseStoredBatch(
  task: BatchTaskDefinition<unknown>,
  payload: unknown,
): StoredBatch {
  const name = `Batch task "${task.identifier}"`;
  if (!Array.isArray(payload)) {
    return {
      ok: false,
      reason: `${name} needs a JSON array of items as its payload, got ${jsonType(payload)}`,
    };
  }
  if (payload.length === 0) {
    return {
      ok: false,
      reason: `${name} got an empty array: a batch job needs at least one item`,
    };
  }
  const items: unknown[] = [];
  const bad: string[] = [];
  payload.forEach((raw, i) => {
    const result = task.item.safeParse(withoutTrace(raw)); // `raw` keeps it for retries
    if (result.success) items.push(result.data);
    else bad.push(`[${i}] ${zodIssues(result.error)}`);
  });
  if (bad.length > 0) {
    const what = bad.length === 1 ? "item" : `${bad.length} of ${payload.length} items`;
    return {
      ok: false,
      reason: `${name}: ${what} did not match the item schema: ${listParts(bad)}`,
    };
  }
  return { ok: true, raw: payload, items };
}
