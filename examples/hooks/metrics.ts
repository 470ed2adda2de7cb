// deno-lint-ignore-file no-console
/**
 * MetricsPlugin: counts started, completed and failed jobs in the plugin's
 * own state, and prints the totals when the worker shuts down.
 */
import type { Plugin } from "../../src/hooks/mod.ts";

/** Counters a {@linkcode metricsPlugin} keeps. */
export interface Metrics {
  started: number;
  completed: number;
  skipped: number;
  failed: number;
}

/** A plugin plus the counters it updates. */
export function metricsPlugin(): { plugin: Plugin; metrics: Metrics } {
  const metrics: Metrics = { started: 0, completed: 0, skipped: 0, failed: 0 };
  const plugin: Plugin = {
    name: "metrics",
    setup(hooks) {
      hooks.on("worker:start", (ctx) => console.log(`[metrics] worker ${ctx.workerId} started`));
      hooks.on("job:start", () => void metrics.started++);
      hooks.on(
        "job:complete",
        (ctx) => void (ctx.skipped ? metrics.skipped++ : metrics.completed++),
      );
      hooks.on("job:fail", () => void metrics.failed++);
      hooks.on("worker:shutdown", () => {
        console.log(
          `[metrics] started=${metrics.started} completed=${metrics.completed} ` +
            `skipped=${metrics.skipped} failed=${metrics.failed}`,
        );
      });
    },
  };
  return { plugin, metrics };
}
