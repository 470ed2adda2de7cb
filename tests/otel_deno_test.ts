/**
 * Deno's built-in OpenTelemetry (`OTEL_DENO=true`, nothing else): a child
 * `deno` process runs a worker with `otelPlugin()` and exports to a small
 * OTLP/HTTP (JSON) receiver on 127.0.0.1, which records the spans and metrics it is sent.
 * Deno only: Bun has no built-in OpenTelemetry.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb } from "./fixtures/worker_helpers.ts";

interface OtlpSpan {
  name: string;
  kind: number;
  spanId: string;
  parentSpanId?: string;
  links?: Array<{ spanId: string }>;
}

const isDeno = typeof (globalThis as Record<string, unknown>).Deno === "object" &&
  typeof (globalThis as Record<string, unknown>).Bun !== "object";

test(
  "OTEL_DENO=true: the plugin's spans reach an OTLP receiver with Deno's providers",
  async () => {
    const db = await setupDb("otel_deno");
    const spans: OtlpSpan[] = [];
    const metricNames = new Set<string>();
    let bounds: number[] | undefined;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const body = await req.json().catch(() => ({}));
      if (new URL(req.url).pathname === "/v1/metrics") {
        for (const rm of body.resourceMetrics ?? []) {
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) {
              metricNames.add(m.name);
              if (m.name === "messaging.process.duration") {
                bounds = m.histogram?.dataPoints?.[0]?.explicitBounds;
              }
            }
          }
        }
      }
      if (new URL(req.url).pathname === "/v1/traces") {
        for (const rs of body.resourceSpans ?? []) {
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
        }
      }
      return Response.json({});
    });
    try {
      const child = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("./fixtures/otel_deno_child.ts", import.meta.url).pathname,
          databaseUrl(),
          db.schema,
        ],
        env: {
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_SERVICE_NAME: "spool-otel-test",
          OTEL_DENO_CONSOLE: "ignore",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(child.code, 0, new TextDecoder().decode(child.stderr));
      const names = spans.map((s) => s.name);
      for (
        const name of [
          "request",
          "send otel_deno_task",
          "process otel_deno_task",
          "inside the task",
        ]
      ) {
        assert.ok(names.includes(name), `${name} not among ${names.join(", ")}`);
      }
      const byName = (n: string) => spans.find((s) => s.name === n)!;
      const send = byName("send otel_deno_task");
      const process = byName("process otel_deno_task");
      assert.equal(send.kind, 4, "PRODUCER");
      assert.equal(process.kind, 5, "CONSUMER");
      assert.equal(send.parentSpanId, byName("request").spanId);
      assert.deepEqual(process.links?.map((l) => l.spanId), [send.spanId]);
      assert.equal(byName("inside the task").parentSpanId, process.spanId);
      // Deno exports metrics at exit too; its meter honours the bucket advice.
      for (
        const name of [
          "messaging.client.sent.messages",
          "messaging.client.consumed.messages",
          "messaging.process.duration",
        ]
      ) assert.ok(metricNames.has(name), `${name} not among ${[...metricNames].join(", ")}`);
      assert.deepEqual(bounds, [
        0.005,
        0.01,
        0.025,
        0.05,
        0.075,
        0.1,
        0.25,
        0.5,
        0.75,
        1,
        2.5,
        5,
        7.5,
        10,
      ]);
    } finally {
      await server.shutdown();
      await db.close();
    }
  },
  { ignore: !isDeno },
);
