/**
 * Single binaries: `bun build --compile cli.ts` and `deno compile cli.ts`
 * each give one executable that runs `run --once` against PostgreSQL with a
 * tasks module (one compile per toolchain, whichever runtime runs the test).
 * `deno compile` needs its `denort` runtime, which it downloads on first use;
 * where that download cannot happen (and DENORT_BIN is not set), the Deno
 * test is skipped and says why.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "./_harness.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { repoRoot, spool } from "./fixtures/cli_helpers.ts";

const KIT_TASKS = "tests/fixtures/cli/kit_tasks.ts";
const dir = await mkdtemp(join(tmpdir(), "spool-bin-"));

async function sh(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const s = await detectRuntime().spawn(cmd, args, { cwd: repoRoot }).status;
  return { code: s.code, out: s.stdout + s.stderr };
}

// deno compile fails within a second when it cannot fetch denort; try it once, up front.
const denoBinary = join(dir, "spool-deno");
const denoCompile = await sh("deno", [
  "compile",
  "-A",
  "--no-check",
  "--include",
  KIT_TASKS,
  "--output",
  denoBinary,
  "cli.ts",
]);
const denoCannot = denoCompile.code !== 0 &&
  /dl\.deno\.land|denort|error sending request|dns error/i.test(denoCompile.out);

let db: TestDb;

test("compile: setup", async () => {
  db = await setupDb("cli_bin");
  await db.sql.unsafe(`create table ${db.s}.cli_done (task text, payload text)`);
});

async function runsAJob(binary: string, name: string): Promise<void> {
  const env = { SPOOL_SCHEMA: db.schema };
  const added = await spool(["add", "hello", JSON.stringify({ name })], { env, binary });
  assert.equal(added.code, 0, added.stdout + added.stderr);
  const r = await spool(["run", "--once", "--tasks", KIT_TASKS], { env, binary });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rows = await db.sql.unsafe(`select payload from ${db.s}.cli_done where payload = $1`, [
    name,
  ]);
  assert.equal(rows.length, 1, "the binary ran the job");
  assert.equal((await db.jobs()).length, 0);
  const help = await spool(["--help"], { binary });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: spool <command>/);
}

test("compile: bun build --compile binary runs a job with run --once", async () => {
  const binary = join(dir, "spool-bun");
  const built = await sh("bun", ["build", "--compile", "cli.ts", "--outfile", binary]);
  assert.equal(built.code, 0, built.out);
  await runsAJob(binary, "from the bun binary");
}, { timeout: 180_000 });

test(
  denoCannot
    ? "compile: deno compile binary runs a job (skipped: deno compile cannot download its denort runtime here and DENORT_BIN is unset)"
    : "compile: deno compile binary runs a job with run --once",
  async () => {
    assert.equal(denoCompile.code, 0, denoCompile.out);
    await runsAJob(denoBinary, "from the deno binary");
  },
  { ignore: denoCannot, timeout: 180_000 },
);

test("compile: teardown", async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});
