/**
 * Checking that the worker still holds the jobs it believes it holds. Fetch
 * commits are asynchronous (`src/sql/_async_commit.ts`), so a server crash
 * can lose a lock that the worker already acted on; a sweeper may also have
 * recovered the jobs of a worker it judged dead. After a reconnect (LISTEN
 * re-established, a heartbeat renewed after failures, or a renewal that
 * found the worker swept) the worker asks the database which of its jobs are
 * still locked by it (the job row and, for a named queue, the queue row) and
 * aborts every other one with reason lock lost: a running job's outcome is
 * discarded, a queued one is dropped without running.
 *
 * @module
 */
import type { Queryable } from "../driver/types.ts";
import type { Logger } from "../logger.ts";
import { jobsStillHeld } from "../sql/jobs_held.ts";
import { JobAbortedError } from "./job_abort.ts";

/** What a {@linkcode LockCheck} needs. */
export interface LockCheckConfig {
  db: Queryable;
  schema: string;
  workerId: string;
  logger: Logger;
  /** Ids of the jobs the worker believes it holds. */
  heldIds(): string[];
  /** Abort a job the worker no longer holds; says whether it ran or waited here. */
  abortJob(id: string, reason: JobAbortedError): "running" | "queued" | undefined;
}

/** Runs the check; concurrent requests share one run, a request during a run runs once more. */
export class LockCheck {
  #config: LockCheckConfig;
  #running: Promise<void> | undefined;
  #again: string | undefined;

  constructor(config: LockCheckConfig) {
    this.#config = config;
  }

  /** Check now (errors are logged; the next reconnect checks again). */
  run(why: string): Promise<void> {
    if (this.#running) {
      this.#again = why;
      return this.#running;
    }
    this.#running = this.#loop(why).finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #loop(why: string): Promise<void> {
    for (let next: string | undefined = why; next !== undefined;) {
      this.#again = undefined;
      await this.#once(next);
      next = this.#again;
    }
  }

  async #once(why: string): Promise<void> {
    const { db, schema, workerId, logger } = this.#config;
    const ids = this.#config.heldIds();
    if (ids.length === 0) return;
    let still: Set<string>;
    try {
      still = await jobsStillHeld(db, { schema, workerId, ids });
    } catch (error) {
      logger.warn("Could not check the locks of the jobs this worker holds", {
        error: String(error),
      });
      return;
    }
    const lost: string[] = [];
    for (const id of ids) {
      if (still.has(id)) continue;
      // Finished jobs whose outcome write just landed are gone too; abortJob skips them.
      const what = this.#config.abortJob(id, JobAbortedError.lockLost(id, why));
      if (what) lost.push(id);
    }
    if (lost.length > 0) {
      logger.error(
        `Worker ${workerId} no longer holds ${lost.length} of its job(s) (${why}): ` +
          "aborted them (lock lost); their outcome is discarded",
        { jobIds: lost },
      );
    }
  }
}
