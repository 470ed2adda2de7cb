/**
 * The `spool` command line through child processes against PostgreSQL:
 * exit codes (0 ok, 1 failure, 2 usage naming the flag, nothing written),
 * --json output, aligned tables, every command.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "./_harness.ts";
import { databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { setupDb, type TestDb } from "./fixtures/worker_helpers.ts";
import { type CliResult, parseJson, spool } from "./fixtures/cli_helpers.ts";
import { COMMANDS, main } from "../src/cli/main.ts";
import { allFlags } from "../src/cli/command.ts";
import type { CliIo } from "../src/cli/_io.ts";

let db: TestDb;
let dir: string;
const env = () => ({ SPOOL_SCHEMA: db.schema });
const run = (...args: string[]) => spool(args, { env: env() });
const count = async () => (await db.jobs()).length;

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A CliIo in memory: what was written to stdout and stderr, and the given terminal and env. */
function memoryIo(tty: boolean, env: Record<string, string> = {}, cwd = ".") {
  const written = { out: "", err: "" };
  const io: CliIo = {
    out: (t) => void (written.out += t),
    err: (t) => void (written.err += t),
    stdoutIsTty: tty,
    stderrIsTty: tty,
    env: (name) => env[name],
    cwd: () => cwd,
  };
  return { io, written };
}

/** A usage error: exit 2, the flag named on stderr, nothing on stdout. */
function usage(r: CliResult, flag: string): void {
  assert.equal(r.code, 2, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.ok(r.stderr.includes(flag), `stderr names ${flag}: ${r.stderr}`);
  assert.equal(r.stdout, "", "nothing on stdout");
}

/** Header and rows line up: every column of every row starts where its header does. */
function assertAligned(text: string, headers: string[]): void {
  const lines = text.trimEnd().split("\n");
  const starts = headers.map((h) => lines[0].indexOf(h));
  assert.ok(starts.every((s, i) => s >= 0 && (i === 0 || s > starts[i - 1])), lines[0]);
  for (const line of lines.slice(1)) {
    for (const s of starts.slice(1)) {
      assert.equal(
        line[s - 1],
        " ",
        `a column boundary before offset ${s} in ${JSON.stringify(line)}`,
      );
    }
  }
}

test("cli: setup", async () => {
  db = await setupDb("cli");
  dir = await mkdtemp(join(tmpdir(), "spool-cli-"));
});

test("cli: --help on every command (in process), exit codes of the top level", async () => {
  for (const command of COMMANDS) {
    const { io, written } = memoryIo(false);
    assert.equal(await main([...command.name.split(" "), "--help"], io), 0, command.name);
    assert.equal(written.err, "", command.name);
    const out = written.out;
    assert.ok(out.startsWith(`Usage: spool ${command.name}`), out);
    for (const flag of Object.keys(allFlags(command))) assert.ok(out.includes(`--${flag}`), flag);
  }
  const top = await spool(["--help"]);
  ok(top);
  for (const c of COMMANDS) assert.ok(top.stdout.includes(c.name), c.name);
  usage(await spool([]), "Usage: spool <command>");
  usage(await spool(["frobnicate"]), "frobnicate");
  usage(await spool(["jobs"]), "list");
});

test("cli: the README's command-line section names every command and flag", async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Command line"), readme.indexOf("## Performance"));
  for (const command of COMMANDS) {
    assert.ok(section.includes(`| \`${command.name}`), `README lists ${command.name}`);
    for (const flag of Object.keys(command.flags ?? {})) {
      assert.ok(section.includes(`\`--${flag}`), `README lists ${command.name} --${flag}`);
    }
  }
});

test("cli: migrate --dry-run writes nothing; migrate applies; then nothing is pending", async () => {
  const schema = uniqueSchema("cli_migrate");
  try {
    const dry = parseJson<{ current: number | null; pending: { id: number }[] }>(
      ok(await spool(["migrate", "--dry-run", "--json"], { env: { SPOOL_SCHEMA: schema } })),
    );
    assert.equal(dry.current, null);
    assert.deepEqual(dry.pending.map((m) => m.id).slice(0, 3), [1, 2, 3]);
    const [{ n }] = await db
      .sql`select count(*)::int as n from pg_namespace where nspname = ${schema}`;
    assert.equal(n, 0, "a dry run creates no schema");
    const applied = parseJson<{ applied: number[] }>(
      ok(await spool(["migrate", "--json", "--schema", schema])),
    );
    assert.deepEqual(applied.applied, dry.pending.map((m) => m.id));
    const again = ok(await spool(["migrate", "--dry-run", "--schema", schema]));
    assert.match(again.stdout, /at migration \d+; 0 to run/);
  } finally {
    await dropSchema(schema);
  }
});

test("cli: add with every job option (--json), and bad input exits 2 naming the flag, adding nothing", async () => {
  const r = ok(
    await run(
      "add",
      "hello",
      '{"name":"Ada"}',
      "--queue",
      "mail",
      "--run-at",
      "+1h",
      "--priority=-3",
      "--max-attempts",
      "7",
      "--key",
      "k-ada",
      "--key-mode",
      "preserve-run-at",
      "--flag",
      "slow,big",
      "--json",
    ),
  );
  const job = parseJson<Record<string, unknown>>(r);
  assert.equal(job.taskIdentifier, "hello");
  assert.deepEqual(job.payload, { name: "Ada" });
  assert.equal(job.queueName, "mail");
  assert.equal(job.priority, -3);
  assert.equal(job.maxAttempts, 7);
  assert.equal(job.key, "k-ada");
  assert.deepEqual([...(job.flags as string[])].sort(), ["big", "slow"]);
  const delay = new Date(job.runAt as string).getTime() - Date.now();
  assert.ok(delay > 50 * 60_000 && delay < 61 * 60_000, `run_at in about an hour (${delay} ms)`);

  const before = await count();
  usage(await run("add", "hello", "{not json"), "<json>");
  usage(await run("add", "hello", "--priority", "high"), "--priority");
  usage(await run("add", "hello", "--max-attempts", "0"), "--max-attempts");
  usage(await run("add", "hello", "--run-at", "tomorrow"), "--run-at");
  usage(await run("add", "hello", "--key-mode", "replace"), "--key-mode");
  usage(await run("add", "hello", "--key", "k", "--key-mode", "sometimes"), "--key-mode");
  usage(await run("add", "hello", "--bogus"), "--bogus");
  usage(await run("add", "hello", "--queue"), "--queue");
  usage(await run("add"), "<task>");
  assert.equal(await count(), before, "no bad add wrote a job");

  const table = ok(await run("add", "hello", '{"name":"Bo"}'));
  assertAligned(table.stdout, ["ID", "TASK", "QUEUE", "STATE", "RUN AT", "ATTEMPTS"]);
});

test("cli: add --file adds in batches with no progress bar when piped; a bad line adds nothing", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const lines = Array.from(
    { length: 5 },
    (_, i) =>
      JSON.stringify({
        identifier: "bulk",
        payload: { i },
        options: i === 0 ? { priority: 5 } : undefined,
      }),
  );
  const file = join(dir, "jobs.ndjson");
  await writeFile(file, lines.join("\n") + "\n\n");
  const r = ok(
    await run("add", "--file", file, "--batch-size", "2", "--queue", "bulk_q", "--json"),
  );
  assert.deepEqual(parseJson(r), { added: 5, batches: 3 });
  assert.doesNotMatch(r.stderr, /Adding jobs/, "no progress bar on a pipe");
  const jobs = await db.jobs();
  assert.equal(jobs.length, 5);
  assert.ok(jobs.every((j) => j.queue_name === "bulk_q"), "flags are defaults for every line");
  assert.equal(jobs.find((j) => (j.payload as { i: number }).i === 0)?.priority, 5);

  // On a terminal (in process, stderr a TTY) the bar is drawn in place and ends with a newline.
  const tty = memoryIo(true, { DATABASE_URL: databaseUrl(), SPOOL_SCHEMA: db.schema }, dir);
  const code = await main(["add", "--file", file, "--batch-size", "2"], tty.io);
  const { out, err } = tty.written;
  assert.equal(code, 0, out + err);
  assert.match(err, /^\rAdding jobs \[#{12}\.{18}\] 2\/5\rAdding jobs \[#{24}\.{6}\] 4\/5\r/);
  assert.ok(err.endsWith("\rAdding jobs [" + "#".repeat(30) + "] 5/5\n"), JSON.stringify(err));
  assert.match(out, /Added 5 job\(s\) in 3 batch\(es\)/);
  await db.sql.unsafe(
    `delete from ${db.s}._private_jobs where id in (
       select id from ${db.s}._private_jobs order by id desc limit 5)`,
  );

  const fromStdin = await spool(["add", "--file", "-"], {
    env: env(),
    stdin: JSON.stringify({ identifier: "bulk", payload: { i: 9 } }) + "\n",
  });
  ok(fromStdin);
  assert.equal(await count(), 6);

  const bad = join(dir, "bad.ndjson");
  await writeFile(bad, [lines[0], lines[1], "{oops", lines[3]].join("\n"));
  usage(await run("add", "--file", bad), "--file line 3");
  const badOption = join(dir, "bad_option.ndjson");
  await writeFile(
    badOption,
    [lines[0], JSON.stringify({ identifier: "bulk", options: { priority: "x" } })].join("\n"),
  );
  usage(await run("add", "--file", badOption, "--batch-size", "1"), "--file job 2");
  assert.equal(await count(), 6, "bad files add nothing");
});

test("cli: jobs list filters (--json) and prints an aligned table; bad filters exit 2", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const a = await db.addJob("list_a", {}, { queueName: "qa" });
  const b = await db.addJob("list_b", {}, { runAt: new Date(Date.now() + 3_600_000) });
  const c = await db.addJob("list_b", {}, { maxAttempts: 1 });
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set attempts = 1, last_error = 'boom' where id = $1`,
    [c],
  );
  const d = await db.addJob("list_a", {}, { jobKey: "the-key" });
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set locked_at = now(), locked_by = 'w_cli' where id = $1`,
    [d],
  );
  const e = await db.addJob("list_a", { color: "red" }, { queueName: "qb" });
  await db.sql.unsafe(
    `update ${db.s}._private_job_queues set locked_at = now(), locked_by = 'w_q' where queue_name = 'qb'`,
  );
  type Listed = { id: string; state: string }[];
  const ids = async (...args: string[]) =>
    parseJson<Listed>(ok(await run("jobs", "list", "--json", ...args))).map((j) => [j.id, j.state]);
  assert.deepEqual(await ids(), [
    [a, "ready"],
    [b, "scheduled"],
    [c, "failed"],
    [d, "running"],
    [e, "blocked"],
  ]);
  assert.deepEqual(await ids("--payload", '{"color":"red"}'), [[e, "blocked"]]);
  assert.deepEqual(await ids("--state", "failed,running"), [[c, "failed"], [d, "running"]]);
  assert.deepEqual(await ids("--task", "list_b", "--state", "scheduled"), [[b, "scheduled"]]);
  assert.deepEqual(await ids("--queue", "qa"), [[a, "ready"]]);
  assert.deepEqual(await ids("--key", "the-key"), [[d, "running"]]);
  assert.deepEqual(await ids("--worker", "w_cli"), [[d, "running"]]);
  assert.deepEqual(await ids("--after", b, "--limit", "1"), [[c, "failed"]]);
  assert.deepEqual(await ids("--error", "BOO"), [[c, "failed"]]);
  assert.deepEqual(await ids("--id", `${a},${d}`), [[a, "ready"], [d, "running"]]);
  assert.deepEqual(await ids("--run-at-from", "+30m"), [[b, "scheduled"]]);
  usage(await run("jobs", "list", "--payload", "{x"), "--payload");
  usage(await run("jobs", "list", "--created-to", "yesterday"), "--created-to");
  const t = ok(await run("jobs", "list"));
  assertAligned(t.stdout, [
    "ID",
    "TASK",
    "QUEUE",
    "STATE",
    "RUN AT",
    "ATTEMPTS",
    "PRIORITY",
    "KEY",
  ]);
  assert.match(t.stdout, /boom/);
  usage(await run("jobs", "list", "--state", "done"), "--state");
  usage(await run("jobs", "list", "--limit", "0"), "--limit");

  const shown = parseJson<{ id: string; state: string; lastError: string }>(
    ok(await run("jobs", "show", c, "--json")),
  );
  assert.deepEqual([shown.id, shown.state, shown.lastError], [c, "failed", "boom"]);
  assert.match(ok(await run("jobs", "show", c)).stdout, /last error\s+boom/);
  assert.equal((await run("jobs", "show", "999999999")).code, 1);
  usage(await run("jobs", "show", "abc"), "<ids>");
});

test("cli: jobs retry|complete|fail|reschedule|delete, locked jobs skipped with exit 1", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const a = await db.addJob("act", {}, { maxAttempts: 2 });
  const b = await db.addJob("act", {});
  const locked = await db.addJob("act", {});
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set locked_at = now(), locked_by = 'w' where id = $1`,
    [locked],
  );
  const row = async (id: string) => (await db.jobs()).find((j) => j.id === id);

  const failed = parseJson<{ affected: string[] }>(
    ok(await run("jobs", "fail", a, "--reason", "by hand", "--json")),
  );
  assert.deepEqual(failed.affected, [a]);
  assert.equal((await row(a))?.attempts, 2);
  assert.equal((await row(a))?.last_error, "by hand");

  ok(await run("jobs", "retry", a));
  assert.equal((await row(a))?.attempts, 0, "retry gives the attempts back");

  ok(await run("jobs", "reschedule", a, "--run-at", "2030-01-02T03:04:05Z", "--priority", "4"));
  assert.equal((await row(a))?.run_at.toISOString(), "2030-01-02T03:04:05.000Z");
  assert.equal((await row(a))?.priority, 4);
  usage(await run("jobs", "reschedule", a), "--run-at");
  usage(await run("jobs", "reschedule", a, "--attempts", "-1"), "--attempts");

  const skipped = await run("jobs", "complete", b, locked, "--json");
  assert.equal(skipped.code, 1, "a skipped job makes the exit code 1");
  const out = parseJson<{ affected: string[]; skipped: { id: string }[] }>(skipped);
  assert.deepEqual(out.affected, [b]);
  assert.deepEqual(out.skipped.map((s) => s.id), [locked]);
  assert.equal(await row(b), undefined, "completed jobs are deleted");

  ok(await run("jobs", "delete", a));
  assert.equal(await row(a), undefined);
  usage(await run("jobs", "delete"), "<ids");
  assert.ok(await row(locked), "the locked job was left alone");
});

test("cli: jobs cancel fails a waiting job, reaches a running one, skips a finished one", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  const waiting = await db.addJob("cancel", {});
  const held = await db.addJob("cancel", {});
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set locked_at = now(), locked_by = 'w' where id = $1`,
    [held],
  );
  const res = await run("jobs", "cancel", waiting, held, "987654321", "--reason", "ops", "--json");
  assert.equal(res.code, 1, "the unknown id makes the exit code 1");
  const out = parseJson<{ cancelled: string[]; running: string[]; skipped: { id: string }[] }>(res);
  assert.deepEqual([out.cancelled, out.running, out.skipped.map((s) => s.id)], [
    [waiting],
    [held],
    ["987654321"],
  ]);
  const row = (await db.jobs()).find((j) => j.id === waiting)!;
  assert.equal(row.last_error, "cancelled: ops");
  assert.equal(row.attempts, row.max_attempts);
  usage(await run("jobs", "cancel", waiting, "--reason", ""), "--reason");
});

test("cli: remove-by-key, cleanup, stats", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  await db.addJob("keyed", {}, { jobKey: "rm-me" });
  const removed = parseJson<{ removed: { key: string } }>(
    ok(await run("remove-by-key", "rm-me", "--json")),
  );
  assert.equal(removed.removed.key, "rm-me");
  assert.equal((await run("remove-by-key", "rm-me")).code, 1, "no job has the key any more");

  const failedJob = await db.addJob("cleanme", {}, { maxAttempts: 1 });
  await db.sql.unsafe(`update ${db.s}._private_jobs set attempts = 1 where id = $1`, [failedJob]);
  await db.addJob("stay", {});
  const stats = ok(await run("stats"));
  assert.equal(
    stats.stdout,
    "ready=1 blocked=0 scheduled=0 retrying=0 running=0 failed=1 total=2\n",
  );
  assert.deepEqual(parseJson(ok(await run("stats", "--json"))), {
    ready: 1,
    blocked: 0,
    scheduled: 0,
    retrying: 0,
    running: 0,
    failed: 1,
    total: 2,
  });
  const cleaned = parseJson<{ deletedJobs: number }>(
    ok(await run("cleanup", "--task", "delete-permafailed-jobs,gc-job-queues", "--json")),
  );
  assert.equal(cleaned.deletedJobs, 1);
  assert.equal(await count(), 1);
  usage(await run("cleanup", "--task", "everything"), "--task");
});

test("cli: workers list|sweep|unlock", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  await db.sql.unsafe(
    `insert into ${db.s}._private_workers (id, last_heartbeat_at, started_at, metadata)
     values ('w_dead', now() - interval '1 hour', now() - interval '2 hours', '{"hostname":"box","pid":7}')`,
  );
  const job = await db.addJob("held", {});
  await db.sql.unsafe(
    `update ${db.s}._private_jobs set locked_at = now(), locked_by = 'w_dead', attempts = 1 where id = $1`,
    [job],
  );
  const list = parseJson<{ id: string; isStale: boolean; lockedJobs: number }[]>(
    ok(await run("workers", "list", "--json")),
  );
  assert.deepEqual(list.map((w) => [w.id, w.isStale, w.lockedJobs]), [["w_dead", true, 1]]);
  const t = ok(await run("workers", "list"));
  assertAligned(t.stdout, [
    "ID",
    "HOST",
    "PID",
    "RUNTIME",
    "STARTED",
    "LAST HEARTBEAT",
    "STALE",
    "JOBS",
  ]);
  assert.match(t.stdout, /w_dead\s+box\s+7/);

  const dry = parseJson<{ dryRun: boolean; jobIds: string[] }>(
    ok(await run("workers", "sweep", "--dry-run", "--json")),
  );
  assert.deepEqual([dry.dryRun, dry.jobIds], [true, [job]]);
  assert.equal((await db.jobs())[0].locked_by, "w_dead", "a dry run changes nothing");
  const swept = ok(await run("workers", "sweep", "--recovery-delay", "0"));
  assert.match(swept.stdout, /Recovered 1 job\(s\)/);
  assert.equal((await db.jobs())[0].locked_by, null);
  usage(await run("workers", "sweep", "--threshold", "soon"), "--threshold");

  await db.sql.unsafe(`update ${db.s}._private_jobs set locked_at = now(), locked_by = 'w_gw'`);
  ok(await run("workers", "unlock", "w_gw"));
  assert.equal((await db.jobs())[0].locked_by, null);
});

test("cli: crontab check prints each item's next five runs; a bad crontab exits 1 naming the line", async () => {
  const file = join(dir, "crontab");
  await writeFile(file, "# nightly\n0 4 * * * nightly ?fill=1h\n*/15 * * * * quarter\n");
  const items = parseJson<{ identifier: string; nextRuns: string[]; fill: number }[]>(
    ok(await spool(["crontab", "check", file, "--json"])),
  );
  assert.deepEqual(items.map((i) => i.identifier), ["nightly", "quarter"]);
  const nightly = items[0].nextRuns.map((s) => new Date(s));
  assert.equal(nightly.length, 5);
  assert.ok(nightly.every((d) => d.getUTCHours() === 4 && d.getUTCMinutes() === 0));
  for (let i = 1; i < 5; i++) {
    assert.equal(nightly[i].getTime() - nightly[i - 1].getTime(), 86_400_000);
  }
  assert.ok(nightly[0].getTime() > Date.now() && nightly[0].getTime() <= Date.now() + 86_400_000);
  assert.equal(items[0].fill, 3_600_000);
  const quarter = items[1].nextRuns.map((s) => new Date(s).getTime());
  for (let i = 1; i < 5; i++) assert.equal(quarter[i] - quarter[i - 1], 15 * 60_000);
  const human = ok(await spool(["crontab", "check", file]));
  assert.match(
    human.stdout,
    /^nightly: 0 4 \* \* \* UTC, backfill 60 min\n {2}\d{4}-\d\d-\d\dT04:00Z\n/,
  );

  const bad = join(dir, "bad_crontab");
  await writeFile(bad, "0 4 * * * fine\n61 * * * * broken\n");
  const r = await spool(["crontab", "check", bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /line 2/);
  usage(await spool(["crontab", "check"]), "<file>");
});

test("cli: configuration: flags over environment over the config module; no database is a usage error", async () => {
  const config = join(dir, "spool.config.ts");
  await writeFile(
    config,
    `export default { database: ${
      JSON.stringify(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test")
    }, schema: ${JSON.stringify(db.schema)} };\n`,
  );
  const schemaOf = async (args: string[], e: Record<string, string | undefined>) =>
    parseJson<{ schema: string }>(
      ok(await spool(["migrate", "--dry-run", "--json", ...args], { env: e })),
    )
      .schema;
  assert.equal(await schemaOf(["--config", config], { DATABASE_URL: undefined }), db.schema);
  assert.equal(await schemaOf(["--config", config], { SPOOL_SCHEMA: "from_env" }), "from_env");
  assert.equal(
    await schemaOf(["--config", config, "--schema", "from_flag"], { SPOOL_SCHEMA: "from_env" }),
    "from_flag",
  );
  assert.equal(await schemaOf([], { SPOOL_CONFIG: config }), db.schema);
  usage(await spool(["stats"], { env: { DATABASE_URL: undefined } }), "--database");
  usage(await spool(["stats", "--database", "mysql://x"]), "--database");
  usage(await spool(["stats", "--config", join(dir, "missing.ts")]), "--config");
});

test("cli: teardown", async () => {
  await db.close();
});
