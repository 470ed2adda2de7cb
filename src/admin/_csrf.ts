/**
 * CSRF protection of writes. It must hold with ambient credentials (Basic,
 * cookies a host app adds), so a write needs both a header a cross-site form
 * or image cannot send (`X-Spool-Request: 1`; a cross-site fetch with it
 * triggers a CORS preflight, which this server never approves) and a
 * same-origin signal from the browser (`Sec-Fetch-Site`, `Origin`).
 *
 * @module
 */
import { AdminHttpError } from "./_http.ts";

/** Header every write must carry, with the value "1". */
export const CSRF_HEADER = "X-Spool-Request";

/** Throw a 403 `csrf` unless `request` (to `url`) is a same-origin write with the header. */
export function checkCsrf(request: Request, url: URL): void {
  if (request.headers.get(CSRF_HEADER) !== "1") {
    throw new AdminHttpError("csrf", `writes must send the header ${CSRF_HEADER}: 1`);
  }
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    throw new AdminHttpError("csrf", `cross-site write refused (Sec-Fetch-Site: ${site})`);
  }
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== url.origin) {
    throw new AdminHttpError("csrf", "cross-origin write refused (Origin does not match)");
  }
}
