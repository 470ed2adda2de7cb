/**
 * OpenTelemetry for Spool: `otelPlugin()` records PRODUCER spans for adds,
 * CONSUMER spans for runs (linked through the `_trace` payload key, in
 * graphile_worker_rs's shape), and the messaging metrics. The only module of
 * Spool that imports `@opentelemetry/api`; `mod.ts` never loads it.
 *
 * @example
 * ```ts ignore
 * import { createWorker } from "@spool/worker";
 * import { otelPlugin } from "@spool/worker/otel";
 * const worker = await createWorker({ database: "postgres://…", tasks, plugins: [otelPlugin()] });
 * ```
 *
 * @module
 */
export {
  type MeterProviderLike,
  OTEL_SCOPE,
  otelPlugin,
  type OtelPluginOptions,
  type TracerProviderLike,
} from "./plugin.ts";
export type { Queryable, QueryResult } from "../driver/types.ts";
export type * from "../hooks/types.ts";
