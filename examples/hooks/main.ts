// deno-lint-ignore-file no-console
/**
 * Hooks and plugins: `deno run -A examples/hooks/main.ts` (or `bun examples/hooks/main.ts`).
 *
 * Uses DATABASE_URL when set, otherwise an in-memory PGlite database. Adds
 * four jobs (normal, skip, forced failure, normal), runs them once with the
 * metrics, validation and logging plugins, and prints the counts.
 */
import process from "node:process";
import { z } from "zod";
import { consoleLogger, createWorker, defineTask } from "../../mod.ts";
import { metricsPlugin } from "./metrics.ts";
import { validationPlugin } from "./validation.ts";
import { loggingPlugin } from "./logging.ts";

const processData = defineTask({
  identifier: "process_data",
  payload: z.object({
    value: z.number().int(),
    skip: z.boolean().optional(),
    force_fail: z.boolean().optional(),
  }),
  run(payload) {
    console.log(`[task]  processing value ${payload.value}`);
  },
});

const { plugin: metrics, metrics: counts } = metricsPlugin();
const worker = await createWorker({
  database: process.env.DATABASE_URL || undefined, // unset or empty → embedded PGlite
  schema: process.env.SPOOL_SCHEMA ?? "spool_hooks_example",
  tasks: [processData],
  plugins: [loggingPlugin, validationPlugin, metrics],
  hookTimeout: 2000,
  logger: consoleLogger({ level: "warn", scope: "spool" }),
  noHandleSignals: true,
});

try {
  await worker.utils.migrate();
  for (
    const payload of [
      { value: 1 },
      { value: 2, skip: true },
      { value: 3, force_fail: true },
      { value: 4 },
    ]
  ) {
    await worker.utils.addJob(processData, payload, { maxAttempts: 1 });
  }
  await worker.runOnce();
} finally {
  await worker.stop(); // fires worker:shutdown: the metrics plugin prints its totals
}
console.log(`done: ${JSON.stringify(counts)}`);
