/**
 * Dead-worker recovery for one worker: its heartbeat and its share of the
 * sweeping, started and stopped by the worker around its job pool. Does
 * nothing when recovery is disabled.
 *
 * Order: `start()` registers before the pool fetches (so the worker's locks
 * are never mistaken for an unregistered holder's), then renews and sweeps;
 * `stopSweeping()` runs with the rest of the shutdown, while the heartbeat
 * keeps going through the grace period; `stop()` runs after the pool has
 * released everything and deregisters.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import type { Logger } from "../logger.ts";
import type { Clock } from "../runtime/types.ts";
import { HeartbeatService } from "./heartbeat.ts";
import type { ResolvedRecoveryOptions } from "./options.ts";
import { type SweeperConfig, SweeperService } from "./sweeper.ts";
import { Fence } from "./fence.ts";

/** What a {@linkcode RecoveryService} needs. */
export interface RecoveryConfig {
  db: Queryable;
  schema: string;
  workerId: string;
  logger: Logger;
  clock: Clock;
  options: ResolvedRecoveryOptions;
  /** Stored with the worker's registry row. */
  metadata: unknown;
  /** The driver's SQLSTATE reader. */
  sqlState?: (error: unknown) => string | undefined;
  /** Told about every sweep this worker ran (lifecycle hooks). */
  onSweep?: SweeperConfig["onSweep"];
  /** The fence's actions (see `fence.ts`); no fence without them. */
  fence?: { trip(): void; recover(): void };
  /** After a renewal that followed failures, or found the worker swept: check the locks held. */
  checkLocks?: (why: string) => void;
}

/** Heartbeat plus sweeper; see the module doc. */
export class RecoveryService {
  readonly heartbeat: HeartbeatService | undefined;
  readonly sweeper: SweeperService | undefined;
  readonly fence: Fence | undefined;

  constructor(config: RecoveryConfig) {
    const { options: o } = config;
    if (!o.enabled) return;
    const fence = config.fence && new Fence({
      clock: config.clock,
      logger: config.logger,
      workerId: config.workerId,
      staleThreshold: o.staleThreshold,
      trip: config.fence.trip,
      recover: config.fence.recover,
    });
    this.fence = fence;
    const checkLocks = config.checkLocks;
    this.heartbeat = new HeartbeatService({
      db: config.db,
      schema: config.schema,
      workerId: config.workerId,
      logger: config.logger,
      clock: config.clock,
      interval: o.heartbeatInterval,
      metadata: config.metadata,
      sqlState: config.sqlState,
      onRenewed: (sentAt, info) => {
        const wasTripped = fence?.tripped === true;
        fence?.renewed(sentAt);
        if (info.swept) checkLocks?.("a sweeper recovered this worker's jobs");
        else if (wasTripped || info.afterFailures) checkLocks?.("the database was unreachable");
      },
    });
    this.sweeper = new SweeperService({
      db: config.db,
      schema: config.schema,
      workerId: config.workerId,
      logger: config.logger,
      clock: config.clock,
      interval: o.sweepInterval,
      onSweep: config.onSweep,
      settings: {
        thresholdMs: o.staleThreshold,
        recoveryDelayMs: o.recoveryDelay,
        sweepUnregistered: o.sweepUnregistered,
        resilientFlags: o.resilientFlags,
        resilientMultiplier: o.resilientMultiplier,
      },
    });
  }

  /** Register, then renew and sweep periodically (continuous mode). */
  async start(): Promise<void> {
    if (!this.heartbeat) return;
    await this.heartbeat.register();
    this.heartbeat.start();
    this.sweeper?.start();
  }

  /** For `runOnce()`: register, sweep once, keep the heartbeat going until `stop()`. */
  async startOnce(): Promise<void> {
    if (!this.heartbeat) return;
    await this.heartbeat.register();
    this.heartbeat.start();
    await this.sweeper?.runOnce();
  }

  /** Stop the periodic sweep (the heartbeat keeps going). */
  async stopSweeping(): Promise<void> {
    await this.sweeper?.stop();
  }

  /** Stop everything and deregister (kept registered if locks remain). */
  async stop(): Promise<void> {
    await this.sweeper?.stop();
    if (!this.heartbeat) return;
    await this.heartbeat.stop();
    this.fence?.stop();
    await this.heartbeat.deregister();
  }
}
