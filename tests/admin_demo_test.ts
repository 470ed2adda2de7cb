/**
 * `deno task admin` (examples/admin_demo.ts) on a fresh machine: with no
 * DATABASE_URL it serves a populated admin and dashboard over the embedded
 * PGlite, on 127.0.0.1, with the credentials it prints; Ctrl-C stops it.
 * The demo is a Deno program, so both runtimes' suites run it under Deno.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { waitFor } from "./fixtures/worker_helpers.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { serveHttp } from "../src/runtime/serve.ts";

test("deno task admin: a populated admin over PGlite, with the printed credentials; SIGINT stops it", async () => {
  const probe = await serveHttp(() => new Response(""), { port: 0 });
  const port = probe.port;
  await probe.close();
  const repoRoot = new URL("..", import.meta.url).pathname;
  const secret = "demo-secret-for-the-test-0123456789";
  const child = detectRuntime().spawn(
    "deno",
    ["run", "-A", "examples/admin_demo.ts", "--port", String(port)],
    { cwd: repoRoot, env: { DATABASE_URL: "", ADMIN_PASSWORD: secret } },
  );
  const base = `http://127.0.0.1:${port}/`;
  const auth = { authorization: `Bearer ${secret}` };
  try {
    const overview = await waitFor("the demo to serve a populated overview", async () => {
      try {
        const res = await fetch(`${base}api/overview`, { headers: auth });
        if (res.status !== 200) return undefined;
        const body = await res.json() as { counts: { total: number; scheduled: number } };
        return body.counts.total > 0 && body.counts.scheduled > 0 ? body : undefined;
      } catch {
        return undefined; // not listening yet
      }
    }, 60_000);
    assert.ok(overview.counts.total >= 10, JSON.stringify(overview.counts));
    assert.equal((await fetch(`${base}api/overview`)).status, 401, "auth is required");
    const page = await fetch(base);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="assets\//);
    child.kill("SIGINT");
    const status = await child.status;
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, new RegExp(`Spool admin on http://127\\.0\\.0\\.1:${port}/`));
    assert.match(status.stdout, /in-memory PGlite/);
    assert.match(status.stdout, new RegExp(`password "${secret}"`));
  } finally {
    child.kill("SIGKILL");
    await child.status.catch(() => {});
  }
});
