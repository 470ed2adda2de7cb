/**
 * Logging: a tiny structured interface so users can plug in their own.
 *
 * @module
 */

/** Log level names, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured fields attached to a log line. */
export type LogMeta = Record<string, unknown>;

/** What Spool logs through. Pass your own to route lines elsewhere. */
export interface Logger {
  /** Detail for debugging (off by default in `consoleLogger`). */
  debug(message: string, meta?: LogMeta): void;
  /** Normal operation: a worker started or stopped. */
  info(message: string, meta?: LogMeta): void;
  /** Something went wrong and Spool recovers (a job failed and will retry). */
  warn(message: string, meta?: LogMeta): void;
  /** Something needs attention (a job failed permanently, a database call failed). */
  error(message: string, meta?: LogMeta): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A logger that writes to the console, dropping lines below `level`.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "@spool/worker";
 * const logger = consoleLogger({ level: "debug", scope: "app" });
 * logger.info("started", { concurrency: 4 });
 * ```
 */
export function consoleLogger(options: { level?: LogLevel; scope?: string } = {}): Logger {
  const min = ORDER[options.level ?? "info"];
  const prefix = options.scope ? `[${options.scope}] ` : "";
  const write = (level: LogLevel) => (message: string, meta?: LogMeta) => {
    if (ORDER[level] < min) return;
    const line = `${new Date().toISOString()} ${level.toUpperCase()} ${prefix}${message}`;
    // deno-lint-ignore no-console
    const out = level === "error" ? console.error : level === "warn" ? console.warn : console.log;
    out(meta && Object.keys(meta).length > 0 ? `${line} ${formatMeta(meta)}` : line);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

// One line per entry: `key=value` pairs, strings JSON-quoted only when needed.
function formatMeta(meta: LogMeta): string {
  return Object.entries(meta).map(([key, value]) => {
    const v = value instanceof Error ? value.message : value;
    const text = typeof v === "string" && /^[^\s="]+$/.test(v) ? v : safeJson(v);
    return `${key}=${text}`;
  }).join(" ");
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * A logger that discards everything.
 *
 * @example
 * ```ts
 * import { silentLogger } from "@spool/worker";
 * silentLogger.info("never printed");
 * ```
 */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/**
 * A logger that adds `fields` to every line of `base`.
 *
 * @example
 * ```ts
 * import { consoleLogger, scopedLogger } from "@spool/worker";
 * const log = scopedLogger(consoleLogger(), { jobId: "42" });
 * log.info("running");
 * ```
 */
export function scopedLogger(base: Logger, fields: LogMeta): Logger {
  const wrap = (fn: Logger["info"]) => (message: string, meta?: LogMeta) =>
    fn.call(base, message, meta ? { ...fields, ...meta } : fields);
  return {
    debug: wrap(base.debug),
    info: wrap(base.info),
    warn: wrap(base.warn),
    error: wrap(base.error),
  };
}
