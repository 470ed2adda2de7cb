/**
 * Serves the dashboard: the shell page at the base path and the hashed client assets under
 * `assets/<hash>/`, with ETags, long-lived caching for hashed names and gzip or brotli when the
 * client accepts it. The admin handler calls {@link serveUi} for every GET/HEAD under its base
 * path that is not `api/`; nothing here needs auth, because nothing here holds data.
 */
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { ASSET_DIR, ASSETS, SHELL } from "./_assets.ts";
import type { UiAsset } from "./asset.ts";

/** What the admin handler tells the UI about the mount. */
export interface UiContext {
  /** The handler's base path, e.g. "/" or "/ops/queue/". */
  readonly basePath: string;
}

const IMMUTABLE = "public, max-age=31536000, immutable";
// The shell names the current asset hash, so it must be revalidated on every load.
const REVALIDATE = "no-cache";
const MIN_COMPRESS = 512;

/** A content coding the dashboard serves besides identity. */
export type Encoding = "br" | "gzip";
const encoded = new Map<string, Uint8Array>();

/**
 * The response for a dashboard path, or null when the path is not the dashboard's (the caller
 * then answers 404). `relPath` is the path after the base path: "" for the page.
 *
 * @example
 * ```ts
 * import { serveUi } from "./serve.ts";
 * const res = await serveUi(new Request("http://127.0.0.1/ops/queue/"), "", {
 *   basePath: "/ops/queue/",
 * });
 * ```
 */
export function serveUi(
  request: Request,
  relPath: string,
  _ctx: UiContext,
): Promise<Response | null> {
  if (request.method !== "GET" && request.method !== "HEAD") return Promise.resolve(null);
  if (relPath === "" || relPath === "index.html") {
    return Promise.resolve(respond(request, SHELL, REVALIDATE));
  }
  if (relPath.startsWith(ASSET_DIR)) {
    const asset = Object.hasOwn(ASSETS, relPath.slice(ASSET_DIR.length))
      ? ASSETS[relPath.slice(ASSET_DIR.length)]
      : undefined;
    if (asset) return Promise.resolve(respond(request, asset, IMMUTABLE));
  }
  return Promise.resolve(null);
}

function respond(request: Request, asset: UiAsset, cacheControl: string): Response {
  const encoding = negotiate(request.headers.get("accept-encoding") ?? "", asset.body.length);
  const etag = encoding ? `${asset.etag.slice(0, -1)}-${encoding}"` : asset.etag;
  const headers = new Headers({
    "content-type": asset.type,
    "cache-control": cacheControl,
    etag,
    vary: "Accept-Encoding",
  });
  if (matches(request.headers.get("if-none-match"), asset.etag)) {
    return new Response(null, { status: 304, headers });
  }
  const body = encoding ? compressed(asset, encoding) : new TextEncoder().encode(asset.body);
  if (encoding) headers.set("content-encoding", encoding);
  headers.set("content-length", String(body.byteLength));
  return new Response(request.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers,
  });
}

/** The best encoding the client accepts (brotli before gzip), or null for identity. */
export function negotiate(acceptEncoding: string, size: number): Encoding | null {
  if (size < MIN_COMPRESS) return null;
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const weight = q ? Number.parseFloat(q.slice(2)) : 1;
    accepted.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const weight = (name: string): number => accepted.get(name) ?? accepted.get("*") ?? 0;
  if (weight("br") > 0 && weight("br") >= weight("gzip")) return "br";
  if (weight("gzip") > 0) return "gzip";
  return null;
}

/** True when If-None-Match names this body in any of its encodings (or is "*"). */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const base = etag.slice(1, -1);
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim().replace(/^W\//, "");
    return t === "*" || t === etag || t === `"${base}-br"` || t === `"${base}-gzip"`;
  });
}

function compressed(asset: UiAsset, encoding: Encoding): Uint8Array {
  const key = `${asset.etag}:${encoding}`;
  let body = encoded.get(key);
  if (!body) {
    const raw = new TextEncoder().encode(asset.body);
    body = encoding === "br"
      ? brotliCompressSync(raw, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 11,
          [constants.BROTLI_PARAM_SIZE_HINT]: raw.byteLength,
        },
      })
      : gzipSync(raw, { level: 9 });
    encoded.set(key, body);
  }
  return body;
}
