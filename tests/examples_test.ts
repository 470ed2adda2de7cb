/**
 * Every example under examples/ runs to completion by itself, as a child process under the
 * runtime running the tests, against DATABASE_URL (in a schema of its own) and on the
 * embedded PGlite default (DATABASE_URL empty), and prints what it is meant to show.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import postgres from "postgres";
import { adminSql, databaseUrl, uniqueSchema } from "./_db.ts";
import { describe, runChild } from "./fixtures/run_child.ts";

interface Example {
  file: string;
  args?: string[];
  /** Each must match the output. */
  expect: RegExp[];
}

const EXAMPLES: Example[] = [
  {
    file: "examples/quickstart.ts",
    expect: [
      /Added 4 jobs/,
      /The flaky job is waiting to retry: attempts 1\/2/,
      /send_email\): done/,
    ],
  },
  { file: "examples/simple.ts", expect: [/Hello world! \(attempt 3\)/, /Worker stopped/] },
  {
    file: "examples/run_once.ts",
    expect: [/(Hello job \d+!\n(.*\n)*){10}/, /runOnce\(\) resolved/, /disposed at the end/],
  },
  { file: "examples/app_state.ts", expect: [/Run count: 3/, /Stopped after 3 runs/] },
  {
    file: "examples/context_helpers.ts",
    expect: [/send_ws: scheduled check_ws/, /check_ws: request req-42 checked/, /Both steps ran/],
  },
  {
    file: "examples/batch_add_jobs.ts",
    expect: [
      /addRawJobs: send_email \+ process_payment/,
      // priority -10 runs before every priority-0 job
      /process_payment: 50 for user 123\n(send_email: .*\n){4}All jobs ran/,
    ],
  },
  { file: "examples/batch.ts", expect: [/holds 3 item\(s\)/, /retry payload: .*"bob"/] },
  {
    file: "examples/crontab.ts",
    args: ["--seconds", "1"],
    expect: [
      /say_hello_cron \(\*\/2 \* \* \* \*, UTC\): /,
      /paris_morning \(0 9 \* \* 1-5, Europe\/Paris\): \d{4}-\d\d-\d\dT0[78]:00Z/,
      /Worker stopped/,
    ],
  },
  {
    file: "examples/hooks/main.ts",
    expect: [/done: \{"started":2,"completed":2,"skipped":1,"failed":1\}/],
  },
  { file: "examples/local_queue.ts", expect: [/refetch delay \d+ ms/, /23 jobs ran/] },
  {
    file: "examples/otel.ts",
    expect: [
      /\[span\] send send_email +PRODUCER id=([0-9a-f]{16}) parent=[0-9a-f]{16}/,
      /\[span\] smtp\.send +INTERNAL id=[0-9a-f]{16} parent=[0-9a-f]{16}/,
      /\[span\] process send_email +CONSUMER id=[0-9a-f]{16} parent=root links=[0-9a-f]{16}/,
      /\[metric\] messaging\.client\.consumed\.messages log_delivery = 1/,
    ],
  },
  {
    file: "examples/web_server.ts",
    args: ["--port", "0", "--self-test"],
    expect: [
      /Listening on http:\/\/127\.0\.0\.1:\d+/,
      /POST \/schedule\/example\?name=ada&value=1 -> 201/,
      /POST \/schedule\/database\?query=pending&delay=0 -> 201 .*database_task/,
      /-> 400 Invalid payload/,
      /GET \/nowhere -> 404/,
      /database_task \(pending\): \d+ job\(s\)/,
      /ok: 2 example and 1 database job\(s\) run/,
      /Workers and server stopped/,
    ],
  },
];

// The examples run in a database of their own: `worker:migrate` notifications that other test
// processes send reach a whole database, and a breaking one stops a running example's worker.
const database = `spool_examples_${Math.random().toString(36).slice(2, 8)}`;
const exampleUrl = (() => {
  const url = new URL(databaseUrl());
  url.pathname = `/${database}`;
  return url.toString();
})();

test("examples: setup (a database of their own)", async () => {
  const sql = adminSql(1);
  try {
    await sql.unsafe(`create database "${database}"`);
  } finally {
    await sql.end();
  }
});

for (const example of EXAMPLES) {
  test(`example ${example.file} runs to completion on DATABASE_URL and on PGlite`, async () => {
    const schema = uniqueSchema("example");
    const [server, embedded] = await Promise.all([
      runChild(example.file, {
        args: example.args,
        env: { DATABASE_URL: exampleUrl, SPOOL_SCHEMA: schema },
        timeoutMs: 90_000,
      }),
      runChild(example.file, {
        args: example.args,
        env: { DATABASE_URL: "" },
        timeoutMs: 90_000,
      }),
    ]);
    for (const [where, result] of [["DATABASE_URL", server], ["PGlite", embedded]] as const) {
      assert.equal(result.code, 0, `${where}: ${describe(result)}`);
      for (const pattern of example.expect) {
        assert.match(result.stdout, pattern, `${where}: ${describe(result)}`);
      }
    }
    // The DATABASE_URL run really used the server: it migrated the schema it was given.
    const sql = postgres(exampleUrl, { max: 1, onnotice: () => {} });
    try {
      const found = await sql`select 1 from pg_namespace where nspname = ${schema}`;
      assert.equal(found.length, 1, `schema ${schema} was not created on the server`);
    } finally {
      await sql.end();
    }
  });
}

test("examples: cleanup", async () => {
  const sql = adminSql(1);
  try {
    await sql.unsafe(`drop database if exists "${database}" with (force)`);
  } finally {
    await sql.end();
  }
});
