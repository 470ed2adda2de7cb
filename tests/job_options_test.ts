/**
 * Job-option validation: every bad input is one ValidationError naming the
 * field, thrown before any statement reaches the database.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { adminSql, databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";
import type { Driver, QueryResult } from "../src/driver/types.ts";
import { ValidationError } from "../src/errors.ts";
import { defineTask } from "../src/task/define_task.ts";
import { normalizeJob, normalizeJobOptions } from "../src/utils/job_options.ts";
import { jsonProblem } from "../src/utils/_json_check.ts";
import { createWorkerUtils } from "../src/utils/worker_utils.ts";
import type { JobOptions } from "../src/utils/types.ts";

const schema = uniqueSchema("job_options");
const sql = adminSql(2);
const driver = postgresJs(databaseUrl(), { max: 2 });
let statements = 0;
const counted: Driver = Object.create(driver);
counted.query = <R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> => {
  statements++;
  return driver.query<R>(text, params);
};
const utils = createWorkerUtils({ driver: counted, schema });
const ready = utils.migrate();

const task = defineTask({
  identifier: "typed",
  payload: z.object({ user: z.object({ id: z.number().int() }), tags: z.array(z.string()) }),
  run() {},
});

const isField = (field: string, text?: string) => (e: unknown): boolean => {
  if (!(e instanceof ValidationError)) return false;
  assert.equal(e.field, field, e.message);
  if (text) assert.ok(e.message.includes(text), `"${e.message}" should mention "${text}"`);
  return true;
};

function cyclic(): unknown {
  const a: Record<string, unknown> = { b: 1 };
  a.self = a;
  return a;
}

const long = (n: number) => "x".repeat(n);

/** [description, options or payload override, expected field, text in message]. */
const BAD_OPTIONS: [string, unknown, string, string?][] = [
  ["empty queueName", { queueName: "" }, "options.queueName"],
  ["queueName over 128", { queueName: long(129) }, "options.queueName", "128"],
  ["maxAttempts 0", { maxAttempts: 0 }, "options.maxAttempts", "1 to 32767"],
  ["maxAttempts 32768", { maxAttempts: 32768 }, "options.maxAttempts"],
  ["maxAttempts not integer", { maxAttempts: 2.5 }, "options.maxAttempts"],
  ["maxAttempts string", { maxAttempts: "3" }, "options.maxAttempts"],
  ["priority above smallint", { priority: 32768 }, "options.priority", "-32768 to 32767"],
  ["priority below smallint", { priority: -32769 }, "options.priority"],
  ["priority NaN", { priority: NaN }, "options.priority"],
  ["empty jobKey", { jobKey: "" }, "options.jobKey"],
  ["jobKey over 512", { jobKey: long(513) }, "options.jobKey", "512"],
  ["unknown jobKeyMode", { jobKey: "k", jobKeyMode: "dedupe" }, "options.jobKeyMode", "dedupe"],
  ["flags not an array", { flags: "urgent" }, "options.flags"],
  ["empty flag", { flags: ["a", ""] }, "options.flags[1]"],
  ["non-string flag", { flags: [7] }, "options.flags[0]"],
  ["Invalid Date", { runAt: new Date("not a date") }, "options.runAt", "Invalid Date"],
  ["runAt string", { runAt: "2030-01-01" }, "options.runAt"],
  ["unknown key (typo)", { jobkey: "k" }, "options", '"jobkey"'],
  ["options not an object", "fast", "options"],
];

const BAD_PAYLOADS: [string, unknown, string][] = [
  ["function", () => 1, "function"],
  ["nested function", { a: { b: () => 1 } }, "payload.a.b"],
  ["symbol", { s: Symbol("x") }, "payload.s"],
  ["bigint", { n: 10n }, "bigint"],
  ["cycle", cyclic(), "cycle"],
  ["NaN", { n: NaN }, "NaN"],
  ["undefined in an array", [1, undefined], "payload[1]"],
  ["Map", { m: new Map([["a", 1]]) }, "Map"],
];

async function jobCount(): Promise<number> {
  const [{ n }] = await sql.unsafe(`select count(*)::int as n from "${schema}"._private_jobs`);
  return n as number;
}

test("normalizeJobOptions accepts the boundaries and leaves defaults to the database", () => {
  const ok = normalizeJobOptions({
    queueName: long(128),
    maxAttempts: 32767,
    priority: -32768,
    jobKey: long(512),
    jobKeyMode: "preserve_run_at",
    flags: ["a"],
    runAt: new Date(0),
  });
  assert.equal(ok.queueName?.length, 128);
  assert.equal(ok.maxAttempts, 32767);
  assert.equal(ok.priority, -32768);
  assert.equal(ok.jobKeyMode, "preserve_run_at");
  assert.deepEqual(normalizeJobOptions(undefined), {
    queueName: null,
    runAt: null,
    maxAttempts: null,
    priority: null,
    jobKey: null,
    jobKeyMode: "replace",
    flags: null,
  });
  // 128 characters counted as code points, like PostgreSQL's length().
  assert.equal(
    normalizeJob({ identifier: "é".repeat(128), payload: {}, options: {} }).identifier.length,
    128,
  );
  assert.throws(
    () => normalizeJob({ identifier: "😀".repeat(129), payload: {}, options: {} }),
    ValidationError,
  );
  assert.equal(
    normalizeJob({ identifier: "😀".repeat(128), payload: {}, options: {} }).identifier.length,
    256,
  );
});

test("jsonProblem: precise about what JSON.stringify would lose", () => {
  assert.equal(
    jsonProblem({ a: 1, b: [true, null, "x"], d: new Date(0), u: undefined }, "p"),
    undefined,
  );
  assert.equal(jsonProblem(undefined, "p"), "p is undefined (JSON has no undefined)");
  assert.match(jsonProblem({ a: [{ f: () => 1 }] }, "p") ?? "", /^p\.a\[0\]\.f is a function/);
  assert.match(jsonProblem({ d: new Date("x") }, "p") ?? "", /p\.d/, "invalid Date becomes null");
  assert.match(jsonProblem({ v: Infinity }, "p") ?? "", /Infinity/);
  assert.match(jsonProblem(new Uint8Array(2), "p") ?? "", /binary/);
  const shared = { x: 1 };
  assert.equal(
    jsonProblem({ a: shared, b: shared }, "p"),
    undefined,
    "a shared object is no cycle",
  );
});

for (const [what, options, field, text] of BAD_OPTIONS) {
  test(`addRawJob rejects ${what} (${field}) before any query`, async () => {
    await ready;
    const before = statements;
    await assert.rejects(utils.addRawJob("opt", {}, options as JobOptions), isField(field, text));
    assert.equal(statements, before, "no statement was sent");
  });
}

for (const [what, payload, text] of BAD_PAYLOADS) {
  test(`addRawJob rejects a payload with a ${what}`, async () => {
    await ready;
    const before = statements;
    await assert.rejects(utils.addRawJob("opt", payload), (e: unknown) => {
      assert.ok(isField("payload", text)(e));
      assert.equal((e as ValidationError).code, "INVALID_PAYLOAD");
      return true;
    });
    assert.equal(statements, before);
  });
}

test("bad identifiers: empty, over 128 characters, not a string", async () => {
  await ready;
  const before = statements;
  await assert.rejects(utils.addRawJob(""), isField("identifier"));
  await assert.rejects(utils.addRawJob(long(129)), isField("identifier", "128"));
  await assert.rejects(utils.addRawJob(5 as unknown as string), isField("identifier"));
  assert.equal(statements, before);
});

test("typed payloads failing the zod schema quote zod's issues and paths", async () => {
  await ready;
  const before = statements;
  await assert.rejects(
    utils.addJob(task, { user: { id: 1.5 }, tags: ["a", 2] } as never),
    (e: unknown) => {
      assert.ok(isField("payload")(e));
      const err = e as ValidationError;
      assert.equal(err.code, "INVALID_PAYLOAD");
      assert.ok(err.message.includes('task "typed"'), err.message);
      assert.ok(err.message.includes("user.id:"), err.message);
      assert.ok(err.message.includes("tags.1:"), err.message);
      const zodMessages = task.payload.safeParse({ user: { id: 1.5 }, tags: ["a", 2] }).error!
        .issues.map((i) => i.message);
      for (const m of zodMessages) assert.ok(err.message.includes(m), `${m} quoted`);
      return true;
    },
  );
  await assert.rejects(
    utils.addJobs(task, [{ payload: { user: { id: 1 }, tags: [] } }, { payload: {} as never }]),
    isField("jobs[1].payload"),
  );
  await assert.rejects(
    utils.addJob({ identifier: "fake" } as never, {}),
    isField("task"),
  );
  assert.equal(statements, before);
});

test("bulk adds name the index of the bad job and insert nothing", async () => {
  await ready;
  const before = statements;
  const good = { identifier: "bulk", payload: {} };
  await assert.rejects(
    utils.addRawJobs([good, good, good, { ...good, options: { jobKey: "" } }]),
    isField("jobs[3].options.jobKey"),
  );
  await assert.rejects(utils.addRawJobs([good, { identifier: "" }]), isField("jobs[1].identifier"));
  await assert.rejects(
    utils.addRawJobs([good, good, { identifier: "x", payload: cyclic() }]),
    isField("jobs[2].payload", "cycle"),
  );
  await assert.rejects(
    utils.addRawJobs([{ identifer: "typo" } as never]),
    isField("jobs[0]", '"identifer"'),
  );
  await assert.rejects(utils.addRawJobs({} as never), isField("jobs"));
  await assert.rejects(
    utils.addRawJobs([good, { ...good, options: { priority: 1e6 } }]),
    isField("jobs[1].options.priority"),
  );
  assert.equal(statements, before);
  assert.equal(await jobCount(), 0, "nothing was inserted");
});

test("accepted edge values reach the database intact", async () => {
  await ready;
  const job = await utils.addRawJob("é".repeat(128), { skip: undefined, when: new Date(0) }, {
    jobKey: long(512),
    queueName: "q".repeat(128),
    maxAttempts: 32767,
    priority: -32768,
  });
  assert.equal(job.taskIdentifier, "é".repeat(128));
  assert.deepEqual(job.payload, { when: "1970-01-01T00:00:00.000Z" });
  assert.equal(job.key?.length, 512);
  assert.equal(job.maxAttempts, 32767);
  assert.equal(job.priority, -32768);
  const nulls = await utils.addRawJob(
    "nullish",
    null,
    { queueName: undefined, priority: null } as never,
  );
  assert.deepEqual(nulls.payload, {});
  assert.equal(nulls.priority, 0);
});

test("teardown", async () => {
  await ready.catch(() => {});
  await utils.release();
  await driver.close();
  await sql.end();
  await dropSchema(schema);
});
