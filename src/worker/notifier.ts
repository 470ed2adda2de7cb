/**
 * The worker's LISTEN subscriptions: `jobs:insert` wakes idle slots,
 * `worker:migrate` with `breaking: true` asks the worker to shut down, and
 * every (re)established LISTEN triggers a fetch to catch up on what was
 * missed while disconnected.
 *
 * @module
 */
import type { Driver, ListenHandlers, Subscription } from "../driver/types.ts";
import type { Logger } from "../logger.ts";

/** Channel graphile-worker's `add_jobs` notifies on. */
export const JOBS_INSERT_CHANNEL = "jobs:insert";
/** Channel the migrator notifies on. */
export const WORKER_MIGRATE_CHANNEL = "worker:migrate";

/** What a {@linkcode Notifier} calls. */
export interface NotifierHandlers {
  /** New jobs may be runnable (or LISTEN was (re)established). */
  wake(): void;
  /**
   * A breaking migration was applied by someone else; `schema` is the schema it names
   * (Spool's announcements carry it, graphile-worker's do not).
   */
  breakingMigration(migrationNumber: number | undefined, schema: string | undefined): void;
  /** The LISTEN connection failed (it reconnects by itself). */
  error?: (error: unknown) => void;
}

/** Holds the worker's LISTEN subscriptions. `start`/`stop` are idempotent. */
export class Notifier {
  #driver: Driver;
  #logger: Logger;
  #handlers: NotifierHandlers;
  #subs: Subscription[] = [];
  #started = false;
  #listening: boolean | null = null;

  constructor(driver: Driver, logger: Logger, handlers: NotifierHandlers) {
    this.#driver = driver;
    this.#logger = logger;
    this.#handlers = handlers;
  }

  /** Subscribe (no-op when the driver cannot LISTEN: the worker then polls). */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (!this.#driver.capabilities.listen) {
      this.#logger.info(`Driver ${this.#driver.name} cannot LISTEN; the worker polls for jobs`);
      return;
    }
    this.#listening = false;
    const onError = (error: unknown) => {
      this.#listening = false;
      this.#logger.warn("LISTEN connection failed; reconnecting", { error: String(error) });
      this.#handlers.error?.(error);
    };
    await this.#add(JOBS_INSERT_CHANNEL, {
      onNotify: (payload) => {
        if (countOf(payload) > 0) this.#handlers.wake();
      },
      onListen: () => {
        this.#listening = true;
        this.#handlers.wake();
      },
      onError,
    });
    await this.#add(WORKER_MIGRATE_CHANNEL, {
      onNotify: (payload) => {
        const info = parse(payload);
        if (info?.breaking === true) {
          const n = typeof info.migrationNumber === "number" ? info.migrationNumber : undefined;
          const schema = typeof info.schema === "string" ? info.schema : undefined;
          this.#handlers.breakingMigration(n, schema);
        }
      },
      onError,
    });
  }

  async #add(channel: string, handlers: ListenHandlers): Promise<void> {
    if (!this.#started) return;
    const sub = await this.#driver.listen(channel, handlers);
    // stop() may have run while LISTEN was being set up.
    if (this.#started) this.#subs.push(sub);
    else await sub.close();
  }

  /**
   * Whether the `jobs:insert` LISTEN is up: `null` when not subscribed (not
   * started, stopped, or a driver that cannot LISTEN), `false` between a
   * connection failure and the next successful LISTEN.
   */
  get listening(): boolean | null {
    return this.#listening;
  }

  /** Unsubscribe. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#listening = null;
    const subs = this.#subs.splice(0);
    await Promise.all(
      subs.map((s) =>
        s.close().catch((error) => this.#logger.warn("UNLISTEN failed", { error: String(error) }))
      ),
    );
  }
}

function parse(payload: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(payload);
    return typeof v === "object" && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The job count of a `jobs:insert` payload; 1 when the payload has none (e.g. a bare NOTIFY). */
function countOf(payload: string): number {
  if (payload === "") return 1;
  const count = parse(payload)?.count;
  return typeof count === "number" ? count : 1;
}
