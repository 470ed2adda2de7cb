/**
 * Authentication of admin API requests: HTTP Basic and Bearer credentials
 * (compared in constant time), a custom `authorize` hook, or, only when asked
 * for explicitly, no authentication at all.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { describe, rejectUnknownKeys } from "../utils/job_options.ts";
import { AdminHttpError } from "./_http.ts";

/** What an actor may do: `viewer` only reads. */
export type AdminRole = "admin" | "viewer";

/** An authenticated caller. */
export interface AdminPrincipal {
  /** Shown in the session and given to `onAction` (a user name, a token label). */
  actor: string;
  /** Role of the caller. */
  role: AdminRole;
}

/** A Basic user. */
export interface BasicCredential {
  /** User name (no ":"). */
  username: string;
  /** Password. */
  password: string;
  /** Role of this user. @default {"admin"} */
  role?: AdminRole;
}

/** A Bearer token. */
export interface BearerCredential {
  /** At least 16 characters. */
  token: string;
  /** Actor name for this token. @default {"bearer"} */
  actor?: string;
  /** Role of this token. @default {"admin"} */
  role?: AdminRole;
}

/** Your own scheme: a principal, a Response to send as is (e.g. a redirect), or null (401). */
export type AuthorizeFn = (
  request: Request,
) => AdminPrincipal | Response | null | Promise<AdminPrincipal | Response | null>;

/**
 * The `auth` option. Give at least one of `basic`, `bearer`, `authorize`, or
 * `{ unsafeNoAuth: true }` alone (every caller is then an admin named
 * "anonymous"; put your own gate in front).
 */
export interface AdminAuthOptions {
  /** HTTP Basic users. */
  basic?: BasicCredential | readonly BasicCredential[];
  /** Bearer tokens. */
  bearer?: BearerCredential | readonly BearerCredential[];
  /** Your own scheme, asked when no built-in credential matched. */
  authorize?: AuthorizeFn;
  /** Run with no authentication at all (only alone). */
  unsafeNoAuth?: boolean;
  /** Realm of the `WWW-Authenticate` challenge. @default {"Spool admin"} */
  realm?: string;
}

/** Checked auth settings. */
export interface ResolvedAuth {
  basic: Array<{ user: Uint8Array; password: Uint8Array; actor: string; role: AdminRole }>;
  bearer: Array<{ token: Uint8Array; actor: string; role: AdminRole }>;
  authorize: AuthorizeFn | undefined;
  unsafeNoAuth: boolean;
  /** Value of `WWW-Authenticate` on 401s, or null when no built-in scheme is configured. */
  challenge: string | null;
}

const enc = new TextEncoder();

function list<T>(value: unknown): T[] {
  return (Array.isArray(value) ? value : [value]) as T[];
}

function checkRole(value: unknown, field: string): AdminRole {
  if (value === undefined) return "admin";
  if (value !== "admin" && value !== "viewer") {
    throw new ValidationError(field, `must be "admin" or "viewer" (got ${describe(value)})`);
  }
  return value;
}

function checkObject(value: unknown, field: string, keys: string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ValidationError(field, `must be an object { ${keys.join(", ")} }`);
  }
  rejectUnknownKeys(value as Record<string, unknown>, new Set(keys), field);
  return value as Record<string, unknown>;
}

/** Check the `auth` option. */
export function checkAuth(value: unknown): ResolvedAuth {
  if (value === undefined) {
    throw new ValidationError(
      "auth",
      "is required: give { basic: { username, password } }, { bearer: { token } }, " +
        "{ authorize(request) }, or { unsafeNoAuth: true } to run without authentication",
    );
  }
  const o = checkObject(value, "auth", ["basic", "bearer", "authorize", "unsafeNoAuth", "realm"]);
  const unsafeNoAuth = o.unsafeNoAuth === undefined ? false : o.unsafeNoAuth;
  if (typeof unsafeNoAuth !== "boolean") {
    throw new ValidationError("auth.unsafeNoAuth", `must be true or false`);
  }
  const realm = o.realm ?? "Spool admin";
  if (typeof realm !== "string" || /["\\\r\n]/.test(realm) || realm.length === 0) {
    throw new ValidationError("auth.realm", "must be a non-empty string without quotes");
  }
  const basic = o.basic === undefined ? [] : list<unknown>(o.basic).map((c, i) => {
    const f = Array.isArray(o.basic) ? `auth.basic[${i}]` : "auth.basic";
    const b = checkObject(c, f, ["username", "password", "role"]);
    if (typeof b.username !== "string" || b.username.length === 0 || b.username.includes(":")) {
      throw new ValidationError(`${f}.username`, "must be a non-empty string without ':'");
    }
    if (typeof b.password !== "string" || b.password.length === 0) {
      throw new ValidationError(`${f}.password`, "must be a non-empty string");
    }
    return {
      user: enc.encode(b.username),
      password: enc.encode(b.password),
      actor: b.username,
      role: checkRole(b.role, `${f}.role`),
    };
  });
  const bearer = o.bearer === undefined ? [] : list<unknown>(o.bearer).map((c, i) => {
    const f = Array.isArray(o.bearer) ? `auth.bearer[${i}]` : "auth.bearer";
    const b = checkObject(c, f, ["token", "actor", "role"]);
    if (typeof b.token !== "string" || b.token.length < 16 || /\s/.test(b.token)) {
      throw new ValidationError(
        `${f}.token`,
        "must be a string of at least 16 non-space characters",
      );
    }
    if (b.actor !== undefined && (typeof b.actor !== "string" || b.actor.length === 0)) {
      throw new ValidationError(`${f}.actor`, "must be a non-empty string");
    }
    return {
      token: enc.encode(b.token),
      actor: (b.actor as string | undefined) ?? "bearer",
      role: checkRole(b.role, `${f}.role`),
    };
  });
  if (o.authorize !== undefined && typeof o.authorize !== "function") {
    throw new ValidationError("auth.authorize", "must be a function (request) => principal");
  }
  const schemes = basic.length + bearer.length + (o.authorize ? 1 : 0);
  if (unsafeNoAuth && schemes > 0) {
    throw new ValidationError(
      "auth.unsafeNoAuth",
      "cannot be combined with basic, bearer or authorize",
    );
  }
  if (!unsafeNoAuth && schemes === 0) {
    throw new ValidationError(
      "auth",
      "configures no scheme: give basic, bearer or authorize (or unsafeNoAuth: true)",
    );
  }
  const challenges = [
    basic.length ? `Basic realm="${realm}", charset="UTF-8"` : "",
    bearer.length ? `Bearer realm="${realm}"` : "",
  ].filter(Boolean);
  return {
    basic,
    bearer,
    authorize: o.authorize as AuthorizeFn | undefined,
    unsafeNoAuth,
    challenge: challenges.length ? challenges.join(", ") : null,
  };
}

/** Equal bytes, in time that depends only on `expected`'s length. */
export function constantTimeEqual(given: Uint8Array, expected: Uint8Array): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given[i] ?? 0) ^ expected[i];
  return diff === 0;
}

function decodeBasic(value: string): { user: Uint8Array; password: Uint8Array } | null {
  let raw: string;
  try {
    raw = atob(value.trim());
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0));
  const colon = bytes.indexOf(0x3a);
  if (colon < 0) return null;
  return { user: bytes.subarray(0, colon), password: bytes.subarray(colon + 1) };
}

function unauthorized(auth: ResolvedAuth, message: string): AdminHttpError {
  return new AdminHttpError(
    "unauthorized",
    message,
    undefined,
    auth.challenge ? { "WWW-Authenticate": auth.challenge } : {},
  );
}

/**
 * The caller of `request`, or a Response from `authorize` to send as is.
 * Throws a 401 {@linkcode AdminHttpError} when nobody is recognised.
 */
export async function authenticate(
  request: Request,
  auth: ResolvedAuth,
): Promise<AdminPrincipal | Response> {
  if (auth.unsafeNoAuth) return { actor: "anonymous", role: "admin" };
  const header = request.headers.get("authorization") ?? "";
  const space = header.indexOf(" ");
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1);
  let found: AdminPrincipal | null = null;
  if (scheme === "basic" && auth.basic.length) {
    const given = decodeBasic(value);
    if (given) {
      // Every credential is compared, so timing does not tell which user matched.
      for (const c of auth.basic) {
        const userOk = constantTimeEqual(given.user, c.user);
        const passwordOk = constantTimeEqual(given.password, c.password);
        if (userOk && passwordOk && !found) found = { actor: c.actor, role: c.role };
      }
    }
  } else if (scheme === "bearer" && auth.bearer.length) {
    const given = enc.encode(value.trim());
    for (const c of auth.bearer) {
      if (constantTimeEqual(given, c.token) && !found) found = { actor: c.actor, role: c.role };
    }
  }
  if (found) return found;
  if (auth.authorize) {
    const result = await auth.authorize(request);
    if (result instanceof Response) return result;
    if (result !== null && result !== undefined) return checkPrincipal(result);
  }
  throw unauthorized(
    auth,
    header ? "the credentials were not accepted" : "authentication required",
  );
}

function checkPrincipal(value: unknown): AdminPrincipal {
  const p = value as Partial<AdminPrincipal>;
  if (
    typeof p !== "object" || typeof p.actor !== "string" || p.actor.length === 0 ||
    (p.role !== "admin" && p.role !== "viewer")
  ) {
    // A programming error in the host app: not the client's fault, so a 500.
    throw new Error(
      'auth.authorize must return { actor: string, role: "admin" | "viewer" }, a Response or null',
    );
  }
  return { actor: p.actor, role: p.role };
}
