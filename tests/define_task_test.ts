/** defineTask: a frozen, typed task; bad definitions fail at definition time. */
import assert from "node:assert/strict";
import { z } from "zod";
import { test } from "./_harness.ts";
import { adminSql, databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";
import { ValidationError } from "../src/errors.ts";
import { defineTask } from "../src/task/define_task.ts";
import type { TaskContext } from "../src/task/types.ts";
import { createWorkerUtils } from "../src/utils/worker_utils.ts";

const field = (f: string) => (e: unknown): boolean => e instanceof ValidationError && e.field === f;

test("defineTask returns a frozen task with kind, identifier, schema and run", async () => {
  const payload = z.object({ to: z.string().email(), n: z.number().default(1) });
  const calls: unknown[] = [];
  const task = defineTask({
    identifier: "send_email",
    payload,
    run(p, _ctx) {
      // Type check: p is the schema's output type.
      const n: number = p.n;
      calls.push([p.to, n]);
    },
  });
  assert.equal(task.kind, "task");
  assert.equal(task.identifier, "send_email");
  assert.equal(task.payload, payload);
  assert.ok(Object.isFrozen(task));
  assert.throws(() => {
    (task as { identifier: string }).identifier = "other";
  }, TypeError);
  await task.run({ to: "a@example.com", n: 2 }, {} as TaskContext);
  assert.deepEqual(calls, [["a@example.com", 2]]);
});

test("defineTask checks the identifier (1–128 characters) at definition time", () => {
  const base = { payload: z.object({}), run() {} };
  assert.throws(() => defineTask({ ...base, identifier: "" }), field("identifier"));
  assert.throws(() => defineTask({ ...base, identifier: "x".repeat(129) }), field("identifier"));
  assert.throws(
    () => defineTask({ ...base, identifier: 42 as unknown as string }),
    field("identifier"),
  );
  assert.equal(defineTask({ ...base, identifier: "x".repeat(128) }).identifier.length, 128);
  try {
    defineTask({ ...base, identifier: "" });
  } catch (e) {
    assert.ok(e instanceof ValidationError);
    assert.match(e.message, /identifier/);
    assert.equal(e.code, "INVALID_OPTION");
  }
});

test("defineTask checks the payload schema and run function", () => {
  assert.throws(
    () => defineTask({ identifier: "t", payload: {} as z.ZodType, run() {} }),
    field("payload"),
  );
  assert.throws(
    () => defineTask({ identifier: "t", payload: z.string(), run: "no" as never }),
    field("run"),
  );
  assert.throws(() => defineTask(null as never), ValidationError);
});

test("a defined task adds typed jobs; the stored payload is the input as given", async () => {
  const schema = uniqueSchema("define_task");
  const driver = postgresJs(databaseUrl(), { max: 2 });
  const utils = createWorkerUtils({ driver, schema });
  const sql = adminSql(1);
  try {
    await utils.migrate();
    const resize = defineTask({
      identifier: "resize",
      payload: z.object({ url: z.string().url(), width: z.number().int().positive() }),
      run() {},
    });
    const job = await utils.addJob(resize, { url: "https://example.com/a.png", width: 300 });
    assert.equal(job.taskIdentifier, "resize");
    assert.deepEqual(job.payload, { url: "https://example.com/a.png", width: 300 });
    await assert.rejects(
      utils.addJob(resize, { url: "not a url", width: -1 }),
      (e: unknown) =>
        e instanceof ValidationError && e.code === "INVALID_PAYLOAD" && e.field === "payload" &&
        e.message.includes("url:") && e.message.includes("width:"),
    );
    const [{ n }] = await sql.unsafe(`select count(*)::int as n from "${schema}"._private_jobs`);
    assert.equal(n, 1, "the invalid job was not inserted");
  } finally {
    await utils.release();
    await driver.close();
    await sql.end();
    await dropSchema(schema);
  }
});
