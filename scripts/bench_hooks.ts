// deno-lint-ignore-file no-console
/**
 * Hook overhead: the same worker drains the same queue with no plugin and
 * with a counter plugin (job:fetch/start/complete/fail observers), rounds
 * interleaved, one process. Prints jobs/s per variant and the difference of
 * the medians.
 *
 *   deno run -A scripts/bench_hooks.ts [--jobs 5000] [--rounds 5] [--concurrency 24]
 *   bun scripts/bench_hooks.ts --jobs 5000
 *
 * DATABASE_URL selects the server (default postgres://postgres@127.0.0.1:5432/test).
 */
import process from "node:process";
import { z } from "zod";
import { createWorker, createWorkerUtils, defineTask, silentLogger } from "../mod.ts";
import type { Plugin } from "../src/hooks/mod.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const jobs = arg("jobs", 5000);
const rounds = arg("rounds", 5);
const concurrency = arg("concurrency", 24);
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = "spool_bench_hooks";

const task = defineTask({ identifier: "noop", payload: z.object({ i: z.number() }), run() {} });
const counts = { fetched: 0, started: 0, completed: 0, failed: 0 };
const counter: Plugin = {
  name: "counter",
  hooks: {
    "job:fetch": () => void counts.fetched++,
    "job:start": () => void counts.started++,
    "job:complete": () => void counts.completed++,
    "job:fail": () => void counts.failed++,
  },
};

const utils = createWorkerUtils({ database: url, schema, logger: silentLogger });
await utils.migrate();

async function round(plugins: Plugin[]): Promise<number> {
  for (let from = 0; from < jobs; from += 1000) {
    const batch = [];
    for (let i = from; i < Math.min(jobs, from + 1000); i++) batch.push({ payload: { i } });
    await utils.addJobs(task, batch);
  }
  const worker = await createWorker({
    database: url,
    schema,
    tasks: [task],
    concurrency,
    maxPoolSize: concurrency + 1,
    localQueue: { size: 500 },
    completeJobBatchDelay: 0,
    logger: silentLogger,
    noHandleSignals: true,
    recovery: { enabled: false },
    plugins,
  });
  await worker.runOnce(); // migrate etc. once, outside the timing
  for (let from = 0; from < jobs; from += 1000) {
    const batch = [];
    for (let i = from; i < Math.min(jobs, from + 1000); i++) batch.push({ payload: { i } });
    await utils.addJobs(task, batch);
  }
  const t0 = performance.now();
  await worker.runOnce();
  const ms = performance.now() - t0;
  await worker.stop();
  return jobs / (ms / 1000);
}

const results: Record<string, number[]> = { none: [], counter: [] };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? ["none", "counter"] : ["counter", "none"];
  for (const variant of order) {
    results[variant].push(await round(variant === "counter" ? [counter] : []));
  }
}
await utils.release();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const none = median(results.none);
const withCounter = median(results.counter);
const fmt = (xs: number[]) => xs.map((x) => Math.round(x)).join(", ");
console.log(`jobs ${jobs} × ${rounds} rounds, concurrency ${concurrency}`);
console.log(`no plugin:      median ${Math.round(none)} jobs/s  (${fmt(results.none)})`);
console.log(`counter plugin: median ${Math.round(withCounter)} jobs/s  (${fmt(results.counter)})`);
console.log(
  `difference: ${(((none - withCounter) / none) * 100).toFixed(1)} % (counted ${
    JSON.stringify(counts)
  })`,
);
