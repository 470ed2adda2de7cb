/**
 * `spool admin`: serve the admin API and dashboard (`createAdmin`) on a
 * port until SIGTERM/SIGINT. Binds 127.0.0.1 unless told otherwise; auth is
 * required (Basic and/or Bearer; a password is generated and printed when
 * none is given); `--no-auth` is refused unless the address is loopback.
 *
 * @module
 */
import { createAdmin } from "../../admin/create_admin.ts";
import type { AdminAuthOptions } from "../../admin/auth.ts";
import type { AdminOptions } from "../../admin/options.ts";
import { detectRuntime } from "../../runtime/detect.ts";
import { serveHttp } from "../../runtime/serve.ts";
import { boolFlag, stringFlag, toBool, toInt, UsageError } from "../args.ts";
import type { Command, CommandContext } from "../command.ts";

const s = stringFlag;
const b = boolFlag;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Resolves on the first SIGINT or SIGTERM. */
function firstSignal(): Promise<string> {
  const runtime = detectRuntime();
  return new Promise((resolve) => {
    const removers = (["SIGINT", "SIGTERM"] as const).map((signal) =>
      runtime.onSignal(signal, () => {
        for (const remove of removers) remove();
        resolve(signal);
      })
    );
  });
}

function authOf(ctx: CommandContext, host: string): { auth: AdminAuthOptions; generated?: string } {
  const bool = (name: string) => {
    const v = ctx.value(name);
    return v !== undefined && toBool(v.value, v.source);
  };
  const user = String(ctx.value("user")?.value ?? "admin");
  const password = ctx.value("password")?.value as string | undefined;
  const token = ctx.value("token");
  if (bool("no-auth")) {
    if (!LOOPBACK.test(host)) {
      throw new UsageError(
        `--no-auth is only allowed on a loopback address (got --host ${host}); ` +
          "put your own gate in front or use --password / --token",
        "--no-auth",
      );
    }
    return { auth: { unsafeNoAuth: true } };
  }
  const auth: AdminAuthOptions = {};
  if (token !== undefined) {
    if (String(token.value).length < 16) {
      throw new UsageError(`${token.source} must be at least 16 characters`, token.source);
    }
    auth.bearer = { token: String(token.value), actor: "token" };
  }
  if (password !== undefined || token === undefined) {
    const generated = password === undefined ? randomSecret() : undefined;
    auth.basic = { username: user, password: password ?? generated! };
    return { auth, generated };
  }
  return { auth };
}

/** `spool admin`. */
export const adminCommand: Command = {
  name: "admin",
  summary: "Serve the admin API and dashboard",
  description: "Basic auth with --user/--password (a password is generated and printed when " +
    "neither --password nor --token is given) and/or a Bearer --token. Further admin options " +
    "(custom authorize, onAction audit hook) come from the config module's `admin` field. " +
    "Runs until SIGTERM/SIGINT.",
  db: true,
  flags: {
    port: { ...s("PORT", "port to listen on [5678]", "SPOOL_ADMIN_PORT"), short: "p" },
    host: s("HOST", "address to bind [127.0.0.1]", "SPOOL_ADMIN_HOST"),
    "base-path": s("PATH", "URL prefix, e.g. /ops/queue/ [/]", "SPOOL_ADMIN_BASE_PATH"),
    user: s("NAME", "Basic auth user [admin]", "SPOOL_ADMIN_USER"),
    password: s("SECRET", "Basic auth password", "SPOOL_ADMIN_PASSWORD"),
    token: s("SECRET", "Bearer token (16+ characters)", "SPOOL_ADMIN_TOKEN"),
    "read-only": b("refuse every write", "SPOOL_ADMIN_READ_ONLY"),
    "allow-migrate": b("allow the migrate action", "SPOOL_ADMIN_ALLOW_MIGRATE"),
    "public-health": b("serve api/health without auth", "SPOOL_ADMIN_PUBLIC_HEALTH"),
    "no-auth": b("no authentication (loopback addresses only)", "SPOOL_ADMIN_NO_AUTH"),
  },
  examples: [
    "admin",
    "admin --port 8081 --token $ADMIN_TOKEN --read-only",
    "admin --host 0.0.0.0 --base-path /ops/queue/ --password $ADMIN_PASSWORD",
  ],
  async run(ctx) {
    const port = ctx.value("port");
    const portNumber = port === undefined ? 5678 : toInt(port.value, port.source, 0, 65535);
    const host = String(ctx.value("host")?.value ?? "127.0.0.1");
    const bool = (name: string) => {
      const v = ctx.value(name);
      return v === undefined ? undefined : toBool(v.value, v.source);
    };
    const fromConfig = ctx.config.admin ?? {};
    const { auth, generated } = fromConfig.auth && ctx.value("password") === undefined &&
        ctx.value("token") === undefined && !bool("no-auth")
      ? { auth: fromConfig.auth, generated: undefined }
      : authOf(ctx, host);
    const options: AdminOptions = {
      ...fromConfig,
      database: ctx.database(),
      schema: ctx.schema(),
      auth,
    };
    const basePath = ctx.value("base-path");
    if (basePath) options.basePath = String(basePath.value);
    for (
      const [flag, key] of [
        ["read-only", "readOnly"],
        ["allow-migrate", "allowMigrate"],
        ["public-health", "publicHealth"],
      ] as const
    ) {
      const v = bool(flag);
      if (v !== undefined) options[key] = v;
    }
    const admin = createAdmin(options);
    try {
      const server = await serveHttp(admin.fetch, { port: portNumber, hostname: host });
      const shown = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
      ctx.io.err(`Spool admin on http://${shown}:${server.port}${options.basePath ?? "/"}\n`);
      if (generated) {
        ctx.io.err(
          `  Basic auth: user "${(auth.basic as { username: string }).username}", ` +
            `password "${generated}" (generated; set SPOOL_ADMIN_PASSWORD to choose one)\n`,
        );
      }
      ctx.io.err("  SIGTERM or Ctrl-C stops it.\n");
      await firstSignal();
      await server.close();
    } finally {
      await admin.close();
    }
    return 0;
  },
};
