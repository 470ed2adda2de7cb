/**
 * The cron scheduler service. At each minute boundary it adds the jobs of the
 * cron items that match that minute, exactly once across any number of
 * schedulers sharing a database: each run is claimed by advancing
 * `_private_known_crontabs.last_execution` (see `src/sql/crontab_known.ts`)
 * in the same transaction that adds the job.
 *
 * Time handling (all in whole UTC minutes, from the injected clock):
 *
 * - First tick (start): identifiers the database does not know yet are
 *   recorded as known since now and never backfilled. Known identifiers with
 *   `fill > 0` get the minutes they missed within the last `fill`, from after
 *   their last run (or from when they became known), with
 *   `_cron.backfilled = true`.
 * - Each later tick handles every minute after the last handled one, up to
 *   the current minute. A minute at most `lateTolerance` old (default 5
 *   minutes: a late timer, a slow database, a small clock step) runs as
 *   normal. An older one (a long stall, a suspended machine, the clock
 *   jumping forward) is treated like downtime: it runs, marked backfilled,
 *   only for items whose `fill` reaches back to it.
 * - When the clock goes backwards, minutes already handled are not handled
 *   again: the scheduler waits until the clock passes them (and the database
 *   claim would refuse them anyway).
 * - Errors are logged and the tick is retried with backoff; minutes are only
 *   marked handled once their jobs were added.
 *
 * @module
 */
import type { Driver, Queryable } from "../driver/types.ts";
import { ValidationError } from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { systemClock } from "../runtime/clock.ts";
import type { Clock } from "../runtime/types.ts";
import {
  type CronJobRow,
  crontabsClaim,
  crontabsKnownList,
  crontabsRegister,
  crontabsSchedule,
} from "../sql/crontab_known.ts";
import { validateSchemaName } from "../sql/ident.ts";
import type { RawJobSpec } from "../utils/types.ts";
import type { CronItem } from "./types.ts";
import type { CronHooks } from "../hooks/schedule_hooks.ts";

const MINUTE = 60_000;

/** Adds claimed cron jobs inside the claiming transaction `tx`. */
export type CronAddJobs = (jobs: RawJobSpec[], tx: Queryable) => Promise<unknown>;

/** Options of {@linkcode createCronScheduler}. */
export interface CronSchedulerOptions {
  /** Database driver. */
  driver: Driver;
  /** Worker schema (default "graphile_worker"). */
  schema?: string;
  /** Items to schedule (from `resolveCronItems`). */
  items: readonly CronItem[];
  /** Time source (default: the system clock). */
  clock?: Clock;
  /** Logger (default: silent). */
  logger?: Logger;
  /**
   * Add the claimed jobs yourself, in the claiming transaction (e.g. through
   * WorkerUtils bound to `tx`). Default: `<schema>.add_job` in the claiming
   * statement.
   */
  addJobs?: CronAddJobs;
  /** How late (ms) a minute may be handled and still run as normal (default 300000). */
  lateTolerance?: number;
  /**
   * Lifecycle hooks: `cron:tick`, `beforeJobSchedule`, `cron:scheduled` (see `src/hooks/`).
   * @internal The worker builds them from its `plugins`.
   */
  hooks?: CronHooks;
}

/** A running (or stopped) cron scheduler. */
export interface CronScheduler {
  /** Handle the current minute now and then every minute boundary. Idempotent. */
  start(): Promise<void>;
  /** Stop the timer and wait for a tick in progress. Idempotent. */
  stop(): Promise<void>;
  /** Handle every unhandled minute up to `now` (ms; default clock.now()). Returns jobs added. */
  tick(now?: number): Promise<number>;
  /** `tick()` at the clock's current time. */
  runOnce(): Promise<number>;
}

const floorMinute = (t: number) => t - (((t % MINUTE) + MINUTE) % MINUTE);
const ceilMinute = (t: number) => {
  const f = floorMinute(t);
  return f === t ? t : f + MINUTE;
};

function cronPayload(item: CronItem, ts: number, backfilled: boolean): Record<string, unknown> {
  return { ...item.payload, _cron: { ts: new Date(ts).toISOString(), backfilled } };
}

/**
 * Create the cron scheduler service.
 *
 * @example
 * ```ts
 * import { createCronScheduler, parseCrontab } from "@spool/worker";
 * import { postgresJs } from "@spool/worker/postgres";
 * const driver = postgresJs("postgres://postgres@127.0.0.1:5432/test");
 * const scheduler = createCronScheduler({
 *   driver,
 *   schema: "graphile_worker",
 *   items: parseCrontab("*\/5 * * * * poll_feeds ?fill=30m"),
 * });
 * await scheduler.start();
 * // ...
 * await scheduler.stop();
 * await driver.close();
 * ```
 */
export function createCronScheduler(options: CronSchedulerOptions): CronScheduler {
  const { driver, addJobs, hooks } = options;
  const schema = validateSchemaName(options.schema ?? "graphile_worker");
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const items = [...options.items];
  const lateTolerance = options.lateTolerance ?? 5 * MINUTE;
  if (!Number.isFinite(lateTolerance) || lateTolerance < MINUTE) {
    throw new ValidationError("lateTolerance", "must be at least 60000 ms (one minute)");
  }
  const maxFill = items.reduce((m, i) => Math.max(m, i.fill), 0);

  /** The first minute not handled yet; null until registered. */
  let next: number | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  let running = false;
  let cancelTimer: (() => void) | null = null;
  let failures = 0;

  async function schedule(ts: number, due: Array<{ item: CronItem; backfilled: boolean }>) {
    const payloadOf = (d: (typeof due)[number]) => cronPayload(d.item, ts, d.backfilled);
    if (hooks && due.length > 0) due = await hooks.intercept(ts, due, payloadOf);
    if (due.length === 0) return 0;
    const date = new Date(ts);
    if (addJobs) {
      return await driver.transaction(async (tx) => {
        const claimed = new Set(
          await crontabsClaim(tx, schema, date, due.map((d) => d.item.identifier)),
        );
        const jobs: RawJobSpec[] = due.filter((d) => claimed.has(d.item.identifier)).map((d) => ({
          identifier: d.item.task,
          payload: cronPayload(d.item, ts, d.backfilled),
          options: { ...d.item.options, runAt: date },
        }));
        if (jobs.length > 0) await addJobs(jobs, tx);
        hooks?.scheduled(ts, due, [...claimed], payloadOf);
        return jobs.length;
      });
    }
    const rows: CronJobRow[] = due.map(({ item, backfilled }) => ({
      identifier: item.identifier,
      task: item.task,
      payload: cronPayload(item, ts, backfilled),
      queueName: item.options.queueName ?? null,
      maxAttempts: item.options.maxAttempts ?? null,
      priority: item.options.priority ?? null,
      jobKey: item.options.jobKey ?? null,
      jobKeyMode: item.options.jobKeyMode ?? null,
    }));
    const added = await crontabsSchedule(driver, schema, date, rows);
    hooks?.scheduled(ts, due, added, payloadOf);
    return added.length;
  }

  /** First tick: record new identifiers, backfill known ones, return the first minute to handle. */
  async function register(now: number): Promise<number> {
    const ids = items.map((i) => i.identifier);
    const known = new Map(
      (await crontabsKnownList(driver, schema, ids)).map((r) => [r.identifier, r]),
    );
    const unknown = ids.filter((id) => !known.has(id));
    await crontabsRegister(driver, schema, unknown, new Date(now));
    let added = 0;
    const fillable = items.filter((i) => i.fill > 0 && known.has(i.identifier));
    if (fillable.length > 0) {
      const notBefore = new Map(fillable.map((i) => {
        const row = known.get(i.identifier)!;
        return [i.identifier, (row.last_execution ?? row.known_since).getTime()];
      }));
      for (let ts = ceilMinute(now - maxFill); ts < now; ts += MINUTE) {
        const due = fillable
          .filter((i) =>
            i.fill >= now - ts && ts >= notBefore.get(i.identifier)! && i.schedule.matches(ts)
          )
          .map((item) => ({ item, backfilled: true }));
        added += await schedule(ts, due);
      }
      if (added > 0) logger.info("cron: backfilled missed runs", { jobs: added });
    }
    next = ceilMinute(now);
    return added;
  }

  async function tickNow(now: number): Promise<number> {
    let added = 0;
    if (next === null) added += await register(now);
    const current = floorMinute(now);
    // Minutes older than this can neither run as normal nor be filled.
    const horizon = ceilMinute(now - Math.max(lateTolerance, maxFill));
    if (next! < horizon) {
      logger.warn("cron: skipping minutes too old to run or fill", {
        from: new Date(next!).toISOString(),
        to: new Date(horizon - MINUTE).toISOString(),
      });
      next = horizon;
    }
    if (current < next! - MINUTE) {
      logger.debug("cron: clock is behind the last handled minute; waiting", {
        next: new Date(next!).toISOString(),
      });
    }
    while (next! <= current) {
      const ts = next!;
      const late = now - ts;
      const due: Array<{ item: CronItem; backfilled: boolean }> = [];
      for (const item of items) {
        if (!item.schedule.matches(ts)) continue;
        if (late <= lateTolerance || ts === current) due.push({ item, backfilled: false });
        else if (item.fill >= late) due.push({ item, backfilled: true });
      }
      hooks?.tick(ts, due);
      if (late > MINUTE && due.length > 0) {
        logger.debug("cron: catching up a late minute", { ts: new Date(ts).toISOString(), late });
      }
      added += await schedule(ts, due);
      next = ts + MINUTE;
    }
    return added;
  }

  function tick(now: number = clock.now()): Promise<number> {
    if (items.length === 0) return Promise.resolve(0);
    const run = chain.then(() => tickNow(now));
    chain = run.catch(() => {});
    return run;
  }

  function arm(delay: number): void {
    cancelTimer?.();
    cancelTimer = clock.setTimeout(() => {
      cancelTimer = null;
      if (!running) return;
      void loop();
    }, Math.max(1, delay));
  }

  async function loop(): Promise<void> {
    try {
      await tick(clock.now());
      failures = 0;
      if (running) arm((next ?? ceilMinute(clock.now())) - clock.now() + 1);
    } catch (error) {
      failures++;
      const delay = Math.min(60_000, 200 * 1.5 ** (failures - 1));
      logger.error(`cron: tick failed; retrying in ${Math.round(delay)} ms`, {
        error,
        attempts: failures,
      });
      if (running) arm(delay);
    }
  }

  return {
    async start() {
      if (running || items.length === 0) return;
      running = true;
      await loop();
    },
    async stop() {
      running = false;
      cancelTimer?.();
      cancelTimer = null;
      await chain;
    },
    tick,
    runOnce: () => tick(clock.now()),
  };
}
