/**
 * Deno's built-in OpenTelemetry (`OTEL_DENO=true`, nothing else): a child
 * `deno` process runs a worker with `otelPlugin()` and exports to a small
 * OTLP/HTTP (JSON) receiver on 127.0.0.1, which records the spans it is sent.
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
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const body = await req.json().catch(() => ({}));
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
    } finally {
      await server.shutdown();
      await db.close();
    }
  },
  { ignore: !isDeno },
);
