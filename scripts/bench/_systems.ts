/**
 * The two systems under test behind one small interface: Spool (from this
 * repository's source) and graphile-worker 0.18.0 (from npm, same runtime).
 */
import { z } from "zod";
import { createWorker } from "../../src/worker/create_worker.ts";
import type { Worker, WorkerOptions } from "../../src/worker/types.ts";
import { defineTask } from "../../src/task/define_task.ts";
import { createWorkerUtils } from "../../src/utils/worker_utils.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Plugin } from "../../src/hooks/types.ts";

/**
 * Worker settings of a benchmark mode: `defaults` (only concurrency),
 * `batched` (graphile-worker's perfTest settings, pool = concurrency + 1) and
 * `queues` (batched, with 20 % of the jobs in 100 named queues).
 */
export type Mode = "defaults" | "batched" | "queues";

/** The named queue of job `i` in mode `queues` (every fifth job, over 100 queues), else null. */
export function queueOf(mode: Mode, i: number): string | null {
  return mode === "queues" && i % 5 === 0 ? `q${(i / 5) % 100}` : null;
}

/** Pool size of a mode: graphile-worker's perfTest uses concurrency + 1; defaults keep 10. */
export function poolSize(mode: Mode, concurrency: number): number | undefined {
  return mode === "defaults" ? undefined : concurrency + 1;
}

/** What a benchmark child does with a system. */
export interface BenchSystem {
  migrate(): Promise<void>;
  /** Add jobs `{ i }` for i in [from, to) in one `addJobs` call, in the named queue `queueOf(i)`. */
  addJobs(from: number, to: number, queueOf: (i: number) => string | null): Promise<void>;
  /** The same through a bulk path that returns no rows, where the system has one (Spool's `addJobsFast`). */
  addJobsFast?(from: number, to: number, queueOf: (i: number) => string | null): Promise<void>;
  /** Add one job through `addJob`. */
  addJob(i: number): Promise<void>;
  /** `onJob(i, t)`: a job started; `t` is its payload's add time, when it has one. */
  startWorker(
    concurrency: number,
    mode: Mode,
    onJob: (i: number, t: number | undefined) => void,
  ): Promise<void>;
  stopWorker(): Promise<void>;
  /**
   * Resolves if the running worker stops by itself (e.g. another process on the
   * same database sent a breaking `worker:migrate` notification, which both
   * systems obey database-wide); the run is then void and main.ts repeats it.
   */
  exited(): Promise<string>;
  close(): Promise<void>;
}

/** Exit code of a child whose worker was stopped from outside (main.ts reruns it). */
export const INTERFERED_EXIT = 3;

/** The batched mode of both systems: graphile-worker's perfTest preset. */
export const BATCHED = {
  localQueue: { size: 500, refetchDelay: { durationMs: 10 } },
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
} as const;

function withAppName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", name);
  return u.toString();
}

/** Spool, from source (with `plugins` on its WorkerUtils and worker, if given). */
export function spoolSystem(
  url: string,
  schema: string,
  tag: string,
  plugins?: Plugin[],
): BenchSystem {
  let onJob: (i: number, t: number | undefined) => void = () => {};
  const task = defineTask({
    identifier: "bench",
    payload: z.object({ i: z.number(), t: z.number().optional() }),
    run: (p) => onJob(p.i, p.t),
  });
  const utils = createWorkerUtils({
    database: withAppName(url, `${tag}_utils`),
    schema,
    logger: silentLogger,
    plugins,
  });
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const specs = (from: number, to: number, queueOf: (i: number) => string | null) => {
    const jobs = [];
    for (let i = from; i < to; i++) {
      const queueName = queueOf(i);
      jobs.push(
        queueName === null ? { payload: { i } } : { payload: { i }, options: { queueName } },
      );
    }
    return jobs;
  };
  return {
    async migrate() {
      await utils.migrate();
    },
    async addJobs(from, to, queueOf) {
      await utils.addJobs(task, specs(from, to, queueOf));
    },
    async addJobsFast(from, to, queueOf) {
      await utils.addJobsFast(task, specs(from, to, queueOf));
    },
    async addJob(i) {
      await utils.addJob(task, { i });
    },
    async startWorker(concurrency, mode, fn) {
      onJob = fn;
      const options: WorkerOptions = {
        database: withAppName(url, tag),
        schema,
        concurrency,
        maxPoolSize: poolSize(mode, concurrency),
        tasks: [task],
        logger: silentLogger,
        noHandleSignals: true,
        plugins,
        ...(mode !== "defaults"
          ? {
            localQueue: {
              size: BATCHED.localQueue.size,
              refetchDelay: { ...BATCHED.localQueue.refetchDelay },
            },
            completeJobBatchDelay: BATCHED.completeJobBatchDelay,
            failJobBatchDelay: BATCHED.failJobBatchDelay,
          }
          : {}),
      };
      worker = await createWorker(options);
      running = worker.run();
    },
    async stopWorker() {
      const w = worker;
      worker = undefined; // exited() ignores the stop we asked for
      await w?.stop();
      await running;
    },
    exited() {
      const w = worker;
      return running!.then(() =>
        new Promise<string>((resolve) => {
          if (worker === w) resolve("the Spool worker stopped by itself");
        })
      );
    },
    async close() {
      await utils.release();
    },
  };
}

/** graphile-worker 0.18.0 from npm. */
export async function graphileSystem(
  url: string,
  schema: string,
  tag: string,
): Promise<BenchSystem> {
  const gw = await import("graphile-worker");
  const logger = new gw.Logger(() => () => {});
  let onJob: (i: number, t: number | undefined) => void = () => {};
  const taskList = {
    bench: (payload: unknown) => {
      const p = payload as { i: number; t?: number };
      onJob(p.i, p.t);
    },
  };
  const utils = await gw.makeWorkerUtils({
    connectionString: withAppName(url, `${tag}_utils`),
    schema,
    logger,
  });
  let runner: Awaited<ReturnType<typeof gw.run>> | undefined;
  return {
    async migrate() {
      await utils.migrate();
    },
    async addJobs(from, to, queueOf) {
      const specs = [];
      for (let i = from; i < to; i++) {
        const queueName = queueOf(i) ?? undefined;
        specs.push({ identifier: "bench", payload: { i }, queueName });
      }
      await utils.addJobs(specs);
    },
    async addJob(i) {
      await utils.addJob("bench", { i });
    },
    async startWorker(concurrency, mode, fn) {
      onJob = fn;
      runner = await gw.run({
        connectionString: withAppName(url, tag),
        schema,
        concurrency,
        ...(poolSize(mode, concurrency) ? { maxPoolSize: poolSize(mode, concurrency) } : {}),
        noHandleSignals: true,
        logger,
        taskList,
        ...(mode !== "defaults"
          ? {
            preset: {
              worker: {
                localQueue: {
                  size: BATCHED.localQueue.size,
                  refetchDelay: { ...BATCHED.localQueue.refetchDelay },
                },
                completeJobBatchDelay: BATCHED.completeJobBatchDelay,
                failJobBatchDelay: BATCHED.failJobBatchDelay,
              },
            },
          }
          : {}),
      });
    },
    async stopWorker() {
      const r = runner;
      runner = undefined;
      try {
        await r?.stop();
      } catch {
        // already stopped (see exited())
      }
      await r?.promise;
    },
    exited() {
      const r = runner;
      return r!.promise.then(() =>
        new Promise<string>((resolve) => {
          if (runner === r) resolve("graphile-worker stopped by itself");
        })
      );
    },
    async close() {
      await utils.release();
    },
  };
}
