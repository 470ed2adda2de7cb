/**
 * Signal handling for graceful shutdown. The first SIGINT/SIGTERM starts a
 * graceful stop; a second one ends the grace period at once (running jobs
 * are still handed back). The handlers are removed when the worker stops, so
 * the process then ends by itself once nothing else keeps it alive: Spool
 * never calls `exit`.
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import type { Runtime, ShutdownSignal } from "../runtime/types.ts";

const SIGNALS: readonly ShutdownSignal[] = ["SIGINT", "SIGTERM"];

/** What a {@linkcode SignalHandlers} calls. */
export interface SignalActions {
  /** First signal: graceful shutdown. */
  graceful(signal: ShutdownSignal): void;
  /** Any later signal: skip what is left of the grace period. */
  force(signal: ShutdownSignal): void;
}

/** Installs and removes the worker's SIGINT/SIGTERM handlers. */
export class SignalHandlers {
  #runtime: Runtime;
  #logger: Logger;
  #actions: SignalActions;
  #removers: Array<() => void> = [];
  #received = 0;

  constructor(runtime: Runtime, logger: Logger, actions: SignalActions) {
    this.#runtime = runtime;
    this.#logger = logger;
    this.#actions = actions;
  }

  /** Install the handlers (idempotent). */
  install(): void {
    if (this.#removers.length > 0) return;
    this.#received = 0;
    for (const signal of SIGNALS) {
      this.#removers.push(this.#runtime.onSignal(signal, () => this.#on(signal)));
    }
  }

  /** Remove the handlers (idempotent). */
  remove(): void {
    for (const remove of this.#removers.splice(0)) {
      try {
        remove();
      } catch { /* the runtime is already tearing down */ }
    }
  }

  #on(signal: ShutdownSignal): void {
    this.#received++;
    if (this.#received === 1) {
      this.#logger.info(
        `Received ${signal}: shutting down gracefully (send it again to stop at once)`,
      );
      this.#actions.graceful(signal);
    } else {
      this.#logger.warn(`Received ${signal} again: stopping now; running jobs are handed back`);
      this.#actions.force(signal);
    }
  }
}
