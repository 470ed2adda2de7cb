/**
 * Output for people (aligned tables, short key: value blocks) and for
 * scripts (`--json`: one JSON document on stdout).
 *
 * @module
 */
import type { Job } from "../utils/types.ts";
import type { CliIo } from "./_io.ts";

/** A cell: anything printable; null/undefined print as "-". */
export type Cell = string | number | boolean | Date | null | undefined;

function text(cell: Cell): string {
  if (cell === null || cell === undefined || cell === "") return "-";
  if (cell instanceof Date) return cell.toISOString().replace(/\.\d{3}Z$/, "Z");
  return String(cell).replace(/\s+/g, " ");
}

function clip(s: string, max: number): string {
  return [...s].length <= max ? s : [...s].slice(0, max - 1).join("") + "…";
}

/**
 * Render rows as a table with a header, columns padded to their widest cell
 * (each cell cut at `maxWidth` characters). Numbers are right-aligned.
 */
export function table(headers: readonly string[], rows: readonly Cell[][], maxWidth = 48): string {
  const cells = rows.map((r) => r.map((c) => clip(text(c), maxWidth)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => [...r[i]].length)));
  const numeric = headers.map((_, i) =>
    rows.length > 0 && rows.every((r) => typeof r[i] === "number")
  );
  const line = (r: readonly string[]) =>
    r.map((c, i) => {
      const pad = " ".repeat(widths[i] - [...c].length);
      return numeric[i] ? pad + c : c + pad;
    }).join("  ").trimEnd();
  return [line(headers), ...cells.map(line)].join("\n") + "\n";
}

/** `key  value` lines, keys padded. */
export function keyValues(pairs: ReadonlyArray<readonly [string, Cell]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${text(v)}`).join("\n") + "\n";
}

/** Print `value` as JSON (dates as ISO strings). */
export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + "\n");
}

/** A job as JSON: the public {@linkcode Job} fields plus its state when known. */
export function jobJson(job: Job, state?: string): Record<string, unknown> {
  return state === undefined ? { ...job } : { ...job, state };
}

/** Column headers of {@linkcode jobRow}. */
export const JOB_HEADERS: readonly string[] = [
  "ID",
  "TASK",
  "QUEUE",
  "STATE",
  "RUN AT",
  "ATTEMPTS",
  "PRIORITY",
  "KEY",
  "LAST ERROR",
];

/** One table row for a job. */
export function jobRow(job: Job, state?: string): Cell[] {
  return [
    job.id,
    job.taskIdentifier,
    job.queueName,
    state,
    job.runAt,
    `${job.attempts}/${job.maxAttempts}`,
    job.priority,
    job.key,
    job.lastError,
  ];
}

/** A job's fields as key: value lines (`jobs show`). */
export function jobDetails(job: Job, state?: string): string {
  return keyValues([
    ["id", job.id],
    ["task", job.taskIdentifier],
    ["state", state],
    ["queue", job.queueName],
    ["run at", job.runAt],
    ["attempts", `${job.attempts}/${job.maxAttempts}`],
    ["priority", job.priority],
    ["key", job.key],
    ["flags", job.flags.join(", ")],
    ["locked by", job.lockedBy],
    ["locked at", job.lockedAt],
    ["created at", job.createdAt],
    ["updated at", job.updatedAt],
    ["revision", job.revision],
    ["last error", job.lastError],
  ]) + `payload\n${JSON.stringify(job.payload, null, 2)}\n`;
}

/**
 * A progress bar on a terminal (stderr, redrawn in place); does nothing when
 * stderr is not a terminal, so piped output stays clean.
 */
export function progressBar(
  io: CliIo,
  label: string,
): { update(done: number, total?: number): void; end(): void } {
  if (!io.stderrIsTty) return { update() {}, end() {} };
  let drawn = false;
  return {
    update(done, total) {
      const width = 30;
      const bar = total
        ? "#".repeat(Math.round((done / Math.max(total, 1)) * width)).padEnd(width, ".")
        : "";
      io.err(`\r${label} ${total ? `[${bar}] ` : ""}${done}${total ? `/${total}` : ""}`);
      drawn = true;
    },
    end() {
      if (drawn) io.err("\n");
    },
  };
}
