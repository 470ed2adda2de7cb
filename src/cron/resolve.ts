/**
 * Turns the worker's `crontab` and `cron` options into one list of cron
 * items with unique identifiers.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { CronBuilder } from "./builder.ts";
import { parseCrontab } from "./crontab_parser.ts";
import type { CronItem } from "./types.ts";

/** One entry of the worker's `cron` option: a typed schedule, or crontab text. */
// deno-lint-ignore no-explicit-any
export type CronInput = CronBuilder<any> | string;

/** The cron-related worker options. */
export interface CronSources {
  /** Crontab text (graphile-worker's format). */
  crontab?: string;
  /** Typed schedules (or crontab lines). */
  cron?: readonly CronInput[];
}

/**
 * Resolve `crontab` and `cron` into cron items. Both may be given together.
 * Throws {@linkcode ValidationError} on a parse error, a duplicate identifier
 * (use `?id=` / `.id()`), or, when `knownTaskIdentifiers` is given, an item
 * whose task is not among them.
 *
 * @example
 * ```ts
 * import { cron, resolveCronItems } from "@spool/worker";
 * const items = resolveCronItems({
 *   crontab: "0 8 * * * send_report",
 *   cron: [cron.everyNMinutes("poll", 5)],
 * }, ["send_report", "poll"]);
 * console.log(items.map((i) => i.identifier)); // ["send_report", "poll"]
 * ```
 */
export function resolveCronItems(
  sources: CronSources,
  knownTaskIdentifiers?: Iterable<string>,
): CronItem[] {
  const items: CronItem[] = [];
  if (sources.crontab !== undefined) items.push(...parseCrontab(sources.crontab, "crontab"));
  if (sources.cron !== undefined) {
    if (!Array.isArray(sources.cron)) {
      throw new ValidationError("cron", "must be an array of cron.* schedules or crontab lines");
    }
    sources.cron.forEach((entry, i) => {
      if (entry instanceof CronBuilder) items.push(entry.toItem(`cron[${i}]`));
      else if (typeof entry === "string") items.push(...parseCrontab(entry, `cron[${i}]`));
      else {
        throw new ValidationError(
          `cron[${i}]`,
          "expected a schedule from cron.everyMinute(), cron.dailyAt(), ... or a crontab line",
        );
      }
    });
  }
  const seen = new Map<string, CronItem>();
  for (const item of items) {
    const earlier = seen.get(item.identifier);
    if (earlier) {
      throw new ValidationError(
        item.source,
        `duplicate cron identifier ${
          JSON.stringify(item.identifier)
        } (also used by ${earlier.source}); ` +
          "give one of them a unique id with ?id=... or .id(...)",
      );
    }
    seen.set(item.identifier, item);
  }
  if (knownTaskIdentifiers !== undefined) {
    const known = new Set(knownTaskIdentifiers);
    for (const item of items) {
      if (!known.has(item.task)) {
        throw new ValidationError(
          item.source,
          `cron task ${JSON.stringify(item.task)} is not a task of this worker; ` +
            `define it in \`tasks\` or fix the identifier (known: ${
              [...known].join(", ") || "none"
            })`,
        );
      }
    }
  }
  return items;
}
