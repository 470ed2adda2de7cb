/**
 * HTTP plumbing of the admin server: the error envelope, JSON answers, the
 * security headers every response carries, and reading a JSON body within a
 * size limit.
 *
 * @module
 */

/** Error codes of the envelope, with their HTTP status. */
export const ERROR_STATUS = {
  bad_json: 400,
  bad_query: 400,
  unauthorized: 401,
  forbidden: 403,
  read_only: 403,
  csrf: 403,
  not_found: 404,
  method_not_allowed: 405,
  locked: 409,
  count_mismatch: 409,
  too_large: 413,
  unsupported_media_type: 415,
  validation: 422,
  internal: 500,
  unavailable: 503,
} as const;

/** One error code of the envelope. */
export type AdminErrorCode = keyof typeof ERROR_STATUS;

/** A failure answered with the error envelope; `message` is shown to the client as is. */
export class AdminHttpError extends Error {
  readonly code: AdminErrorCode;
  readonly field: string | undefined;
  readonly headers: Record<string, string>;
  constructor(
    code: AdminErrorCode,
    message: string,
    field?: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "AdminHttpError";
    this.code = code;
    this.field = field;
    this.headers = headers;
  }
}

/** Headers set on every response, UI and API alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; " +
    "frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
});

/** `response` with the security headers set (copied when its headers are immutable). */
export function withSecurityHeaders(response: Response): Response {
  try {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) response.headers.set(k, v);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) copy.headers.set(k, v);
    return copy;
  }
}

/** A JSON answer; API answers are never cached. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": "no-store",
      ...headers,
    },
  });
}

/** The error envelope for `error`. */
export function errorResponse(error: AdminHttpError): Response {
  const body: { code: string; message: string; field?: string } = {
    code: error.code,
    message: error.message,
  };
  if (error.field !== undefined) body.field = error.field;
  return json({ error: body }, ERROR_STATUS[error.code], error.headers);
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Read a JSON object body: `application/json` only (415), at most `maxBytes`
 * (413, also when no Content-Length was sent), parseable (400), an object (422).
 */
export async function readJsonObject(
  request: Request,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const type = request.headers.get("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    throw new AdminHttpError(
      "unsupported_media_type",
      `send the body as application/json (got ${type ? JSON.stringify(type) : "no Content-Type"})`,
    );
  }
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await readLimited(request, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new AdminHttpError("bad_json", `the body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AdminHttpError("validation", "the body must be a JSON object", "body");
  }
  return value as Record<string, unknown>;
}

function tooLarge(maxBytes: number): AdminHttpError {
  return new AdminHttpError("too_large", `the body is larger than ${maxBytes} bytes`);
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
