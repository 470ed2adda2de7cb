/**
 * Lost fetches. When the connection drops while a fetch is in flight, the
 * fetch may have committed on the server although its rows never reached the
 * worker: those jobs are locked by this worker's id, no slot runs them, and
 * the worker is alive, so no sweeper would ever free them (only the 4-hour
 * reset). {@linkcode HeldJobs} remembers which jobs the worker knows it holds
 * (added when a fetch returns, released once the outcome or hand-back write
 * settled); after a failed fetch, {@linkcode GuardedFetcher} hands back every
 * job locked by this worker that is not in that set, before fetching again
 * (attempt given back, job and queue unlocked; see `src/sql/jobs_reclaim.ts`).
 *
 * The reclaim runs only when no other fetch of this worker is in flight, so
 * it never races a fetch that is about to return its rows.
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import { type FetchedJob, Fetcher, type FetcherConfig } from "./fetcher.ts";

/** Ids of the jobs this worker knows it holds. */
export class HeldJobs {
  #ids = new Set<string>();

  /** Remember jobs a fetch returned. */
  add(ids: Iterable<string>): void {
    for (const id of ids) this.#ids.add(id);
  }

  /** Forget jobs whose outcome (or hand-back) write settled. */
  release(ids: Iterable<string>): void {
    for (const id of ids) this.#ids.delete(id);
  }

  /** The ids held now. */
  ids(): string[] {
    return [...this.#ids];
  }

  /** How many are held. */
  get size(): number {
    return this.#ids.size;
  }
}

/** What a {@linkcode GuardedFetcher} needs beyond a plain fetcher's config. */
export interface GuardedFetcherConfig extends FetcherConfig {
  held: HeldJobs;
  /** Hand back jobs locked by this worker except `knownIds`; returns their ids. */
  reclaim(knownIds: string[]): Promise<string[]>;
  logger: Logger;
}

/** A {@linkcode Fetcher} that records what it fetched and reclaims lost fetches. */
export class GuardedFetcher extends Fetcher {
  #held: HeldJobs;
  #reclaim: (knownIds: string[]) => Promise<string[]>;
  #logger: Logger;
  #inFlight = 0;
  #suspect = false;
  #reclaiming: Promise<string[]> | undefined;

  constructor(config: GuardedFetcherConfig) {
    super(config);
    this.#held = config.held;
    this.#reclaim = config.reclaim;
    this.#logger = config.logger;
  }

  /** True while a failed fetch may have left jobs locked (cleared by the next reclaim). */
  get suspect(): boolean {
    return this.#suspect;
  }

  override async fetch(batchSize: number): Promise<FetchedJob[]> {
    if (this.#suspect && this.#inFlight === 0) await this.reclaimLost();
    this.#inFlight++;
    try {
      const jobs = await super.fetch(batchSize);
      this.#held.add(jobs.map((j) => j.id));
      return jobs;
    } catch (error) {
      this.#suspect = true;
      throw error;
    } finally {
      this.#inFlight--;
    }
  }

  /** A hand-back failed: the next fetch first reclaims what this worker holds unknowingly. */
  markSuspect(): void {
    this.#suspect = true;
  }

  /** Hand back jobs locked by this worker that it does not know it holds. Throws on DB errors. */
  reclaimLost(): Promise<string[]> {
    // Concurrent callers share one reclaim.
    this.#reclaiming ??= this.#reclaimOnce().finally(() => (this.#reclaiming = undefined));
    return this.#reclaiming;
  }

  async #reclaimOnce(): Promise<string[]> {
    this.#suspect = false;
    let ids: string[];
    try {
      ids = await this.#reclaim(this.#held.ids());
    } catch (error) {
      this.#suspect = true;
      throw error;
    }
    if (ids.length > 0) {
      this.#logger.warn(
        `Handed back ${ids.length} job(s) locked by a fetch whose answer was lost ` +
          "when the connection dropped",
        { jobIds: ids },
      );
    }
    return ids;
  }
}
