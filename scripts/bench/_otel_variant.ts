/**
 * The OTel plugin variants of `otel.ts`: with no SDK (the global API is a
 * no-op), or with an SDK whose exporters drop everything (spans go through a
 * BatchSpanProcessor, metrics are aggregated by a reader that never exports),
 * plus an AsyncLocalStorage context manager, as a Node/Bun app would set up.
 */
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { otelPlugin } from "../../src/otel/mod.ts";
import type { Plugin } from "../../src/hooks/types.ts";

/** Which variant a benchmark child runs. */
export type OtelVariant = "none" | "no-sdk" | "sdk";

class IdleReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The plugin of `variant` (not "none"). */
export function otelVariant(variant: Exclude<OtelVariant, "none">): Plugin {
  if (variant === "no-sdk") return otelPlugin();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = {
    export: (_spans: unknown[], done: (r: { code: number }) => void) => done({ code: 0 }),
    shutdown: () => Promise.resolve(),
  };
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  return otelPlugin({ tracerProvider, meterProvider });
}
