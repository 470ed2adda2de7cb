// deno-lint-ignore-file no-console
/**
 * The admin API with a live demo queue: `deno task admin`.
 *
 * Without DATABASE_URL it runs on an in-memory PGlite database (nothing to
 * install); with it, on that server (schema `spool_admin_demo`, or
 * ADMIN_SCHEMA). A demo worker keeps adding and running jobs: most succeed,
 * some fail and retry, some fail for good, some are scheduled for later.
 *
 * Listens on http://127.0.0.1:5678/ (ADMIN_HOST / ADMIN_PORT or --host /
 * --port change that) with Basic auth: user `admin` and a generated password
 * (or ADMIN_PASSWORD), printed at start. The same secret works as a Bearer token.
 * Ctrl-C stops it.
 */
import process from "node:process";
import { z } from "zod";
import { createWorker, defineTask, type Driver } from "../mod.ts";
import { createAdmin } from "../src/admin/mod.ts";
import { pglite } from "../src/driver/pglite.ts";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const host = flag("host") ?? process.env.ADMIN_HOST ?? "127.0.0.1";
const port = Number(flag("port") ?? process.env.ADMIN_PORT ?? 5678);
const database = process.env.DATABASE_URL || undefined;
const schema = process.env.ADMIN_SCHEMA ?? "spool_admin_demo";
const secret = process.env.ADMIN_PASSWORD ??
  Array.from(crypto.getRandomValues(new Uint8Array(18)), (b) => b.toString(16).padStart(2, "0"))
    .join("");

const sendEmail = defineTask({
  identifier: "send_email",
  payload: z.object({ to: z.string(), subject: z.string() }),
  async run() {
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
  },
});
const resizeImage = defineTask({
  identifier: "resize_image",
  payload: z.object({ file: z.string(), width: z.number() }),
  async run(payload) {
    await new Promise((r) => setTimeout(r, 500 + Math.random() * 1500));
    if (payload.width > 4000) throw new Error(`image ${payload.file} is too wide to resize`);
  },
});
const syncAccount = defineTask({
  identifier: "sync_account",
  payload: z.object({ account: z.number() }),
  async run(payload) {
    await new Promise((r) => setTimeout(r, 300));
    if (Math.random() < 0.4) throw new Error(`upstream timeout while syncing ${payload.account}`);
  },
});

const driver: Driver | undefined = database ? undefined : pglite();
const worker = await createWorker({
  ...(driver ? { driver } : { database }),
  schema,
  tasks: [sendEmail, resizeImage, syncAccount],
  concurrency: 3,
  pollInterval: 1000,
  noHandleSignals: true,
});
await worker.utils.migrate();
const admin = createAdmin({
  utils: worker.utils,
  auth: {
    basic: { username: "admin", password: secret },
    bearer: { token: secret, actor: "token" },
  },
  allowMigrate: true,
});

let n = 0;
const feed = async () => {
  n++;
  const u = worker.utils;
  await u.addJob(sendEmail, { to: `user${n}@example.com`, subject: "Welcome" });
  await u.addJob(resizeImage, { file: `photo${n}.jpg`, width: n % 5 === 0 ? 8000 : 1200 }, {
    maxAttempts: 2,
  });
  await u.addJob(syncAccount, { account: n }, { queueName: `account-${n % 3}`, maxAttempts: 5 });
  await u.addJob(sendEmail, { to: `later${n}@example.com`, subject: "Reminder" }, {
    runAt: new Date(Date.now() + (5 + (n % 55)) * 60_000),
  });
};
for (let i = 0; i < 5; i++) await feed();
const timer = setInterval(() => feed().catch((e) => console.error("feed failed:", e)), 4000);

const running = worker.run();
const server = Deno.serve({ hostname: host, port, onListen: () => {} }, admin.fetch);
const shown = host.includes(":") ? `[${host}]` : host;
console.log(`Spool admin on http://${shown}:${port}/`);
console.log(`  database: ${database ? "DATABASE_URL" : "in-memory PGlite"}, schema ${schema}`);
console.log(`  Basic auth: user "admin", password "${secret}"`);
console.log(`  or: curl -H "Authorization: Bearer ${secret}" http://${shown}:${port}/api/overview`);
console.log("Ctrl-C stops it.");

Deno.addSignalListener("SIGINT", async () => {
  clearInterval(timer);
  await server.shutdown();
  await worker.stop();
  await running.catch(() => {});
  await admin.close();
  await driver?.close();
  Deno.exit(0);
});
