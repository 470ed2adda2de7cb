/** Serving the embedded dashboard: shell, hashed assets, caching, ETags, compression. */
import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { test } from "./_harness.ts";
import { negotiate, serveUi } from "../src/admin/ui/serve.ts";
import { ASSET_DIR, ASSETS, SHELL } from "../src/admin/ui/_assets.ts";

const ctx = { basePath: "/ops/queue/" };
const req = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  new Request(`http://127.0.0.1/ops/queue/${path}`, { method, headers });

async function get(path: string, headers: Record<string, string> = {}, method = "GET") {
  const res = await serveUi(req(path, headers, method), path, ctx);
  assert.ok(res, `${path} is served`);
  return res;
}

test("shell: revalidated, ETag, only relative URLs to the current asset directory", async () => {
  const res = await get("");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-cache");
  assert.equal(res.headers.get("etag"), SHELL.etag);
  const html = await res.text();
  assert.equal(html, SHELL.body);
  assert.match(html, new RegExp(`src="${ASSET_DIR}app\\.js"`));
  assert.doesNotMatch(html, /(?:href|src)="(?:\/|https?:)/, "no absolute URL");
  assert.doesNotMatch(html, /<script>|style=|<style/, "no inline script or style");
  for (const m of html.matchAll(/(?:href|src)="([^"]+)"/g)) {
    assert.ok(m[1].startsWith(ASSET_DIR), `${m[1]} is an embedded asset`);
    assert.ok(Object.hasOwn(ASSETS, m[1].slice(ASSET_DIR.length)), `${m[1]} exists`);
  }
});

test("assets: immutable, typed, identical to the embedded text", async () => {
  for (const [path, asset] of Object.entries(ASSETS)) {
    const res = await get(ASSET_DIR + path);
    assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(res.headers.get("content-type"), asset.type);
    assert.equal(await res.text(), asset.body, path);
  }
  assert.ok(ASSETS["app.js"] && ASSETS["style.css"]);
});

test("client sources: no absolute URL, no inline style, CSRF header on writes", () => {
  for (const [path, asset] of Object.entries(ASSETS)) {
    assert.doesNotMatch(asset.body, /fetch\(\s*["'`]\//, `${path}: fetch of an absolute path`);
    assert.doesNotMatch(asset.body, /["'`]\/api\//, `${path}: absolute api path`);
    assert.doesNotMatch(
      asset.body,
      /https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
      `${path}: absolute URL`,
    );
    assert.doesNotMatch(
      asset.body,
      /innerHTML|insertAdjacentHTML|\.style\s*=|setAttribute\(\s*["']style/,
      path,
    );
    if (path.endsWith(".css")) assert.doesNotMatch(asset.body, /url\(\s*["']?\//, path);
  }
  assert.match(ASSETS["api.js"].body, /x-spool-request"\] = "1"/);
});

test("unknown paths, old hashes and other methods are not the dashboard's", async () => {
  assert.equal(await serveUi(req("nope.js"), "nope.js", ctx), null);
  assert.equal(
    await serveUi(req("assets/000000000000/app.js"), "assets/000000000000/app.js", ctx),
    null,
  );
  assert.equal(await serveUi(req(`${ASSET_DIR}missing.js`), `${ASSET_DIR}missing.js`, ctx), null);
  assert.equal(
    await serveUi(req(`${ASSET_DIR}constructor`), `${ASSET_DIR}constructor`, ctx),
    null,
    "no prototype keys",
  );
  assert.equal(await serveUi(req("", {}, "POST"), "", ctx), null);
});

test("If-None-Match answers 304 with the same validators and no body", async () => {
  const first = await get(ASSET_DIR + "app.js", { "accept-encoding": "gzip" });
  const etag = first.headers.get("etag")!;
  assert.match(etag, /-gzip"$/);
  const again = await get(ASSET_DIR + "app.js", {
    "accept-encoding": "gzip",
    "if-none-match": etag,
  });
  assert.equal(again.status, 304);
  assert.equal(again.body, null);
  assert.equal(again.headers.get("etag"), etag);
  const identity = await get(ASSET_DIR + "app.js", {
    "if-none-match": `W/${ASSETS["app.js"].etag}`,
  });
  assert.equal(identity.status, 304);
  const stale = await get("", { "if-none-match": '"something-else"' });
  assert.equal(stale.status, 200);
});

test("gzip and brotli when accepted; the decoded bytes are the file", async () => {
  const text = ASSETS["app.js"].body;
  const gz = await get(ASSET_DIR + "app.js", { "accept-encoding": "gzip, deflate" });
  assert.equal(gz.headers.get("content-encoding"), "gzip");
  assert.equal(gz.headers.get("vary"), "Accept-Encoding");
  const gzBytes = new Uint8Array(await gz.arrayBuffer());
  assert.equal(Number(gz.headers.get("content-length")), gzBytes.byteLength);
  assert.ok(gzBytes.byteLength < text.length / 2, "compressed");
  assert.equal(new TextDecoder().decode(gunzipSync(gzBytes)), text);
  const br = await get(ASSET_DIR + "app.js", { "accept-encoding": "gzip, deflate, br" });
  assert.equal(br.headers.get("content-encoding"), "br");
  assert.equal(
    new TextDecoder().decode(brotliDecompressSync(new Uint8Array(await br.arrayBuffer()))),
    text,
  );
  const plain = await get(ASSET_DIR + "app.js");
  assert.equal(plain.headers.get("content-encoding"), null);
});

test("HEAD has the headers and no body", async () => {
  const res = await get("", {}, "HEAD");
  assert.equal(res.status, 200);
  assert.equal(res.body, null);
  assert.equal(
    res.headers.get("content-length"),
    String(new TextEncoder().encode(SHELL.body).length),
  );
});

test("negotiate: q-values, refusals, wildcards and small bodies", () => {
  assert.equal(negotiate("gzip, br", 10_000), "br");
  assert.equal(negotiate("br;q=0, gzip", 10_000), "gzip");
  assert.equal(negotiate("br;q=0.5, gzip;q=0.8", 10_000), "gzip");
  assert.equal(negotiate("identity", 10_000), null);
  assert.equal(negotiate("*", 10_000), "br");
  assert.equal(negotiate("*;q=0", 10_000), null);
  assert.equal(negotiate("gzip, br", 100), null);
  assert.equal(negotiate("", 10_000), null);
});
