/**
 * Value rules shared by crontab options and typed schedules. Each check
 * returns `undefined` when the value is fine, else what was expected.
 */
import type { JobKeyMode } from "../utils/types.ts";

/** Task identifier in a crontab line (graphile-worker's rule; `/` allows nested tasks). */
export const TASK_IDENTIFIER = /^[_a-zA-Z][_a-zA-Z0-9:/_-]*$/;
const ITEM_ID = /^[_a-zA-Z][-_a-zA-Z0-9]*$/;
const QUEUE = /^[-a-zA-Z0-9_:]+$/;
const JOB_KEY_MODES: readonly JobKeyMode[] = ["replace", "preserve_run_at", "unsafe_dedupe"];

/** Check a task identifier given to a typed schedule (any 1–128 characters). */
export function taskProblem(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= 128
    ? undefined
    : "a task identifier of 1-128 characters";
}

/** Check an item id (`?id=`). */
export function idProblem(value: unknown): string | undefined {
  return typeof value === "string" && ITEM_ID.test(value)
    ? undefined
    : "an id starting with a letter or _, then letters, digits, _ or -";
}

/** Check a queue name (`?queue=`). */
export function queueProblem(value: unknown): string | undefined {
  return typeof value === "string" && QUEUE.test(value) && value.length <= 128
    ? undefined
    : "a queue name of 1-128 letters, digits, _, - or :";
}

/** Check max attempts (`?max=`). */
export function maxProblem(value: unknown): string | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 32767
    ? undefined
    : "max attempts as a whole number from 1 to 32767";
}

/** Check a priority (`?priority=`). */
export function priorityProblem(value: unknown): string | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= -32768 &&
      value <= 32767
    ? undefined
    : "a priority as a whole number from -32768 to 32767";
}

/** Check a job key (`?jobKey=`). */
export function jobKeyProblem(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= 512
    ? undefined
    : "a job key of 1-512 characters";
}

/** Check a job key mode (`?jobKeyMode=`). */
export function jobKeyModeProblem(value: unknown): string | undefined {
  return typeof value === "string" && (JOB_KEY_MODES as readonly string[]).includes(value)
    ? undefined
    : `a job key mode: ${JOB_KEY_MODES.join(", ")}`;
}

/** Is `value` a plain JSON-able object (a cron payload)? */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
