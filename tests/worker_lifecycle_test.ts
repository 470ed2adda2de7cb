/**
 * What keeps the process alive: a script whose worker opened its own pool ends by itself
 * once runOnce() resolves (the pool is let go and reopened on demand), and `await using`
 * stops the worker at the end of the block. Each case runs in a child process that must
 * exit on its own under the runtime running the tests.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { describe, runChild } from "./fixtures/run_child.ts";

const FIXTURE = "tests/fixtures/run_once_child.ts";
const schemas: string[] = [];

function env(database: string): Record<string, string> {
  const schema = uniqueSchema("lifecycle");
  schemas.push(schema);
  return { DATABASE_URL: database, SPOOL_TEST_SCHEMA: schema };
}

test("runOnce() on a worker that opened its own pool: the process exits by itself", async () => {
  const result = await runChild(FIXTURE, { args: ["run-once"], env: env(databaseUrl()) });
  assert.equal(result.code, 0, describe(result));
  assert.match(result.stdout, /ran 1,2,3; job 3 done: true/, describe(result));
});

for (const [where, database] of [["its own pool", databaseUrl()], ["the embedded default", ""]]) {
  test(`await using stops the worker at the end of the block (${where})`, async () => {
    const result = await runChild(FIXTURE, { args: ["await-using"], env: env(database) });
    assert.equal(result.code, 0, describe(result));
    assert.match(result.stdout, /ran 7; after the block: .*stopped/, describe(result));
  });
}

test("worker lifecycle: cleanup", async () => {
  for (const schema of schemas) await dropSchema(schema);
});
