// deno-lint-ignore-file no-explicit-any -- JSON answers are inspected field by field
/**
 * Admin API over HTTP semantics: options, every read route's contract, the
 * auth and CSRF matrices, basePath, bad input (a 4xx envelope, nothing
 * changed), hidden internals, the audit hook, and a real port.
 */
import { serveOnLoopback } from "./fixtures/http_serve.ts";
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { type AdminActionEvent, createAdmin } from "../src/admin/mod.ts";
import { ValidationError } from "../src/errors.ts";
import { HIGHEST_KNOWN_MIGRATION } from "../src/migrate/migrate.ts";
import { createWorkerUtils } from "../src/utils/worker_utils.ts";
import {
  BASIC,
  call,
  fails,
  jobsSnapshot,
  req,
  type ReqOptions,
  setupAdmin,
  TEST_AUTH,
  TOKEN,
} from "./fixtures/admin_helpers.ts";

const db = await setupAdmin("admin_http");
const { admin } = db;
const CSP_START = "default-src 'none'; script-src 'self'";

function checkSecurityHeaders(response: Response): void {
  assert.ok(response.headers.get("content-security-policy")?.startsWith(CSP_START));
  assert.match(response.headers.get("content-security-policy")!, /frame-ancestors 'none'/);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(response.headers.get("referrer-policy"), "no-referrer");
  assert.equal(response.headers.get("x-frame-options"), "DENY");
  assert.equal(response.headers.get("access-control-allow-origin"), null);
}

test("admin options: one clear error per field", () => {
  const url = databaseUrl();
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ database: url }, "auth"],
    [{ database: url, auth: {} }, "auth"],
    [
      { database: url, auth: { unsafeNoAuth: true, bearer: { token: TOKEN } } },
      "auth.unsafeNoAuth",
    ],
    [{ database: url, auth: { bearer: { token: "short" } } }, "auth.bearer.token"],
    [{ database: url, auth: { basic: { username: "a:b", password: "x" } } }, "auth.basic.username"],
    [
      { database: url, auth: { basic: [BASIC, { username: "v", password: "" }] } },
      "auth.basic[1].password",
    ],
    [{ database: url, auth: { bearer: { token: TOKEN, role: "root" } } }, "auth.bearer.role"],
    [{ database: url, auth: { authorize: "yes" } }, "auth.authorize"],
    [{ auth: TEST_AUTH }, "database"],
    [{ database: url, driver: db.adminDriver, auth: TEST_AUTH }, "driver"],
    [{ database: 42, auth: TEST_AUTH }, "database"],
    [{ database: url, auth: TEST_AUTH, basePath: "ops" }, "basePath"],
    [{ database: url, auth: TEST_AUTH, basePath: "/a/../b/" }, "basePath"],
    [{ database: url, auth: TEST_AUTH, maxPageSize: 5000 }, "maxPageSize"],
    [{ database: url, auth: TEST_AUTH, maxPageSize: 0 }, "maxPageSize"],
    [{ database: url, auth: TEST_AUTH, staleThreshold: -1 }, "staleThreshold"],
    [{ database: url, auth: TEST_AUTH, readOnly: "yes" }, "readOnly"],
    [{ database: url, auth: TEST_AUTH, onAction: 1 }, "onAction"],
    [{ database: url, auth: TEST_AUTH, sсhema: "x" }, "options"],
    [{ database: url, auth: TEST_AUTH, schema: "" }, "schema"],
  ];
  for (const [options, field] of cases) {
    assert.throws(
      () => createAdmin(options as never),
      (e: unknown) => e instanceof ValidationError && e.field === field,
      `expected a ValidationError on ${field} for ${JSON.stringify(Object.keys(options))}`,
    );
  }
  const utils = createWorkerUtils({ database: url, schema: "other" });
  assert.throws(
    () => createAdmin({ utils, schema: "else", auth: TEST_AUTH }),
    (e: unknown) => e instanceof ValidationError && e.field === "schema",
  );
  // Creation does no I/O, and a trailing slash is added to the base path.
  const ok = createAdmin({ utils, auth: TEST_AUTH, basePath: "/ops" });
  return ok.close().then(() => utils.release());
});

test("admin routes: contract of every read route", async () => {
  const id = await db.addJob("contract_task", { n: 1 }, { queueName: "contract_q", jobKey: "k1" });
  const health = await call(admin, req("/api/health"), 200);
  assert.equal(health.status, "ok");
  assert.equal(health.schema, db.schema);
  assert.equal(health.migration, HIGHEST_KNOWN_MIGRATION);

  const session = await call(admin, req("/api/session"), 200);
  assert.deepEqual(
    { ...session, version: typeof session.version },
    {
      actor: "ci",
      role: "admin",
      readOnly: false,
      canWrite: true,
      allowMigrate: false,
      schema: db.schema,
      version: "string",
      basePath: "/",
      maxPageSize: 100,
      maxActionJobs: 1000,
    },
  );

  const overview = await call<Record<string, any>>(admin, req("/api/overview"), 200);
  for (
    const key of [
      "now",
      "counts",
      "countsMeta",
      "tasks",
      "queues",
      "unqueued",
      "workers",
      "unregisteredLockHolders",
      "staleThresholdMs",
      "oldestReadyAgeMs",
      "schedule",
    ]
  ) assert.ok(key in overview, `overview has ${key}`);
  assert.equal(overview.counts.ready, 1);
  assert.equal(overview.counts.total, 1);
  assert.deepEqual(overview.countsMeta.source, "exact");
  assert.equal(overview.schedule.buckets.length, 12);
  assert.equal(overview.schedule.bucketMs, 300_000);
  assert.equal(overview.staleThresholdMs, 300_000);
  assert.ok(overview.oldestReadyAgeMs >= 0);

  const list = await call<Record<string, any>>(admin, req("/api/jobs"), 200);
  assert.equal(list.jobs.length, 1);
  assert.equal(list.nextCursor, null);
  assert.equal(list.prevCursor, null);
  const job = await call<Record<string, unknown>>(admin, req(`/api/jobs/${id}`), 200);
  assert.deepEqual(list.jobs[0], job);
  assert.deepEqual(Object.keys(job).sort(), [
    "attempts",
    "createdAt",
    "flags",
    "id",
    "isAvailable",
    "key",
    "lastError",
    "lockedAt",
    "lockedBy",
    "maxAttempts",
    "payload",
    "priority",
    "queueName",
    "revision",
    "runAt",
    "state",
    "taskIdentifier",
    "updatedAt",
  ]);
  assert.equal(job.id, id);
  assert.equal(job.taskIdentifier, "contract_task");
  assert.equal(job.queueName, "contract_q");
  assert.equal(job.key, "k1");
  assert.equal(job.state, "ready");
  assert.equal(job.isAvailable, true);
  assert.deepEqual(job.payload, { n: 1 });
  await fails(admin, req("/api/jobs/999999"), 404, "not_found");

  const tasks = await call<Record<string, any>>(admin, req("/api/tasks"), 200);
  assert.deepEqual(tasks.tasks.map((t: { identifier: string }) => t.identifier), ["contract_task"]);
  assert.equal(tasks.tasks[0].counts.ready, 1);
  const queues = await call<Record<string, any>>(admin, req("/api/queues"), 200);
  assert.equal(queues.queues[0].name, "contract_q");
  assert.equal(queues.queues[0].lockedBy, null);
  assert.equal(queues.unqueued.total, 0);
  const workers = await call<Record<string, any>>(admin, req("/api/workers"), 200);
  assert.deepEqual(workers.workers, []);
  await db.sql.unsafe(
    `insert into ${db.s}._private_known_crontabs (identifier, known_since, last_execution)
     values ('nightly', now() - interval '1 day', now())`,
  );
  const crontabs = await call<Record<string, any>>(admin, req("/api/crontabs"), 200);
  assert.equal(crontabs.crontabs[0].identifier, "nightly");
  assert.match(crontabs.crontabs[0].lastExecution, /^\d{4}-\d\d-\d\dT/);

  const metrics = await admin.fetch(req("/api/metrics"));
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await metrics.text();
  assert.match(text, /^spool_jobs\{state="ready"\} 1$/m);
  assert.match(text, /^spool_task_jobs\{task="contract_task",state="ready"\} 1$/m);
  assert.match(text, /^spool_queue_locked\{queue="contract_q"\} 0$/m);
  assert.match(text, /^spool_workers\{status="alive"\} 0$/m);
  assert.ok(text.endsWith("# EOF\n"));
  const om = await admin.fetch(
    req("/api/metrics", { headers: { accept: "application/openmetrics-text" } }),
  );
  assert.match(om.headers.get("content-type")!, /^application\/openmetrics-text; version=1\.0\.0/);
  await om.body?.cancel();

  for (const path of ["/api/session", "/api/nope", "/api/jobs/1/x", "/", "/api"]) {
    const r = await admin.fetch(req(path));
    await r.body?.cancel();
    checkSecurityHeaders(r);
  }
  await fails(admin, req("/api/nope"), 404, "not_found");
  const head = await admin.fetch(req("/api/session", { method: "HEAD" }));
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
});

test("admin auth matrix: none, wrong and right credentials; viewer; readOnly; custom", async () => {
  const addJob = (as: ReqOptions["as"]) =>
    req("/api/jobs", { as, body: { taskIdentifier: "auth_task" } });
  const none = await admin.fetch(req("/api/overview", { as: "none" }));
  assert.equal(none.status, 401);
  assert.equal(
    none.headers.get("www-authenticate"),
    'Basic realm="Spool admin", charset="UTF-8", Bearer realm="Spool admin"',
  );
  assert.equal((await none.json()).error.code, "unauthorized");
  const wrong = [
    { authorization: `Bearer ${TOKEN}x` },
    { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    { authorization: `Basic ${btoa(`${BASIC.username}:nope`)}` },
    { authorization: `Basic ${btoa(`other:${BASIC.password}`)}` },
    { authorization: "Basic !!!" },
    { authorization: TOKEN },
  ];
  for (const as of wrong) await fails(admin, req("/api/overview", { as }), 401, "unauthorized");
  assert.equal((await call(admin, req("/api/session", { as: "basic" }), 200)).actor, "ops");
  const viewer = await call(admin, req("/api/session", { as: "viewer" }), 200);
  assert.equal(viewer.role, "viewer");
  assert.equal(viewer.canWrite, false);
  await call(admin, req("/api/overview", { as: "viewer" }), 200);
  await fails(admin, addJob("viewer"), 403, "forbidden");
  await fails(admin, addJob("none"), 401, "unauthorized");
  await call(admin, addJob("basic"), 201);

  await db.withAdmin({ readOnly: true }, async (ro) => {
    const s = await call(ro, req("/api/session"), 200);
    assert.equal(s.canWrite, false);
    assert.equal(s.readOnly, true);
    await fails(ro, addJob("admin"), 403, "read_only");
    for (const path of ["/api/jobs/actions", "/api/jobs/remove-by-key", "/api/maintenance"]) {
      await fails(
        ro,
        req(path, { body: { action: "cleanup", key: "k", ids: ["1"] } }),
        403,
        "read_only",
      );
    }
  });

  await db.withAdmin({
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    auth: {
      authorize(request) {
        const user = request.headers.get("x-user");
        if (user === "redirect") {
          return new Response(null, { status: 302, headers: { Location: "/login" } });
        }
        if (user === "broken") return { actor: "" } as never;
        return user ? { actor: user, role: user.startsWith("view") ? "viewer" : "admin" } : null;
      },
    },
  }, async (custom) => {
    assert.equal(
      (await call(custom, req("/api/session", { headers: { "x-user": "ada" } }), 200)).actor,
      "ada",
    );
    const v = await call(custom, req("/api/session", { headers: { "x-user": "viewer1" } }), 200);
    assert.equal(v.role, "viewer");
    const anon = await custom.fetch(req("/api/session", { as: "none" }));
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get("www-authenticate"), null);
    await anon.body?.cancel();
    const redirect = await custom.fetch(req("/api/session", { headers: { "x-user": "redirect" } }));
    assert.equal(redirect.status, 302);
    checkSecurityHeaders(redirect);
    await fails(custom, req("/api/session", { headers: { "x-user": "broken" } }), 500, "internal");
    await fails(
      custom,
      req("/api/jobs", { headers: { "x-user": "viewer2" }, body: { taskIdentifier: "t" } }),
      403,
      "forbidden",
    );
  });

  await db.withAdmin({ auth: { unsafeNoAuth: true }, publicHealth: true }, async (open) => {
    assert.equal((await call(open, req("/api/session", { as: "none" }), 200)).actor, "anonymous");
  });
  await db.withAdmin({ publicHealth: true }, async (pub) => {
    await call(pub, req("/api/health", { as: "none" }), 200);
    await fails(pub, req("/api/session", { as: "none" }), 401, "unauthorized");
  });
  await fails(admin, req("/api/health", { as: "none" }), 401, "unauthorized");
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
});

test("admin CSRF matrix: header and same-origin required on writes", async () => {
  const body = { taskIdentifier: "csrf_task" };
  const before = await jobsSnapshot(db);
  await fails(admin, req("/api/jobs", { body, noCsrf: true }), 403, "csrf");
  await fails(admin, req("/api/jobs", { body, headers: { "x-spool-request": "0" } }), 403, "csrf");
  await fails(
    admin,
    req("/api/jobs", { body, headers: { origin: "https://evil.test" } }),
    403,
    "csrf",
  );
  await fails(
    admin,
    req("/api/jobs", { body, headers: { origin: "http://admin.test:8080" } }),
    403,
    "csrf",
  );
  for (const site of ["cross-site", "same-site"]) {
    await fails(
      admin,
      req("/api/jobs", { body, headers: { "sec-fetch-site": site } }),
      403,
      "csrf",
    );
  }
  // Basic credentials are ambient: a cross-site request carrying them is still refused.
  await fails(
    admin,
    req("/api/jobs", { as: "basic", body, noCsrf: true, headers: { origin: "https://evil.test" } }),
    403,
    "csrf",
  );
  assert.equal(await jobsSnapshot(db), before);
  await call(admin, req("/api/jobs", { body, headers: { origin: "http://admin.test" } }), 201);
  await call(admin, req("/api/jobs", { body, headers: { "sec-fetch-site": "same-origin" } }), 201);
  await call(admin, req("/api/jobs", { body, headers: { "sec-fetch-site": "none" } }), 201);
  // Reads need no CSRF header.
  await call(admin, req("/api/jobs", { headers: { "sec-fetch-site": "cross-site" } }), 200);
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
});

test("admin basePath /ops/queue/: API, redirect, UI fallthrough, outside paths", async () => {
  await db.withAdmin({ basePath: "/ops/queue/" }, async (ops) => {
    const s = await call(ops, req("/ops/queue/api/session"), 200);
    assert.equal(s.basePath, "/ops/queue/");
    await call(ops, req("/ops/queue/api/jobs", { body: { taskIdentifier: "base_task" } }), 201);
    const jobs = await call<{ jobs: Array<{ id: string }> }>(ops, req("/ops/queue/api/jobs"), 200);
    await call(ops, req(`/ops/queue/api/jobs/${jobs.jobs[0].id}`), 200);
    const redirect = await ops.fetch(req("/ops/queue?x=1"));
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get("location"), "/ops/queue/?x=1");
    checkSecurityHeaders(redirect);
    await fails(ops, req("/api/session"), 404, "not_found");
    await fails(ops, req("/ops/queuex/api/session"), 404, "not_found");
    // The dashboard page is served with no auth asked for (it holds no data), with the
    // security headers; a path the UI does not have is the 404 envelope.
    const page = await ops.fetch(req("/ops/queue/", { as: "none" }));
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    checkSecurityHeaders(page);
    await page.body?.cancel();
    await fails(ops, req("/ops/queue/no-such-file.js", { as: "none" }), 404, "not_found");
    await fails(
      ops,
      req("/ops/queue/assets/app.js", { method: "POST", body: {} }),
      405,
      "method_not_allowed",
    );
  });
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
});

test("admin bad input: a 4xx envelope each, nothing changed in the database", async () => {
  const id = await db.addJob("bad_task", {});
  const before = await jobsSnapshot(db);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    req(path, { body, headers });
  await fails(admin, post("/api/jobs/actions", "{not json"), 400, "bad_json");
  await fails(admin, post("/api/jobs/actions", "[1,2]"), 422, "validation", "body");
  await fails(
    admin,
    post("/api/jobs/actions", { action: "fail", ids: [id], extra: 1 }),
    422,
    "validation",
    "extra",
  );
  await fails(
    admin,
    post("/api/jobs/actions", { action: "explode", ids: [id] }),
    422,
    "validation",
    "action",
  );
  await fails(
    admin,
    post("/api/jobs/actions", { action: "fail", ids: ["12a"] }),
    422,
    "validation",
    "ids[0]",
  );
  await fails(
    admin,
    post("/api/jobs/actions", { action: "fail", ids: [Number(id)] }),
    422,
    "validation",
    "ids[0]",
  );
  await fails(
    admin,
    post("/api/jobs/actions", { action: "fail", ids: ["99999999999999999999"] }),
    422,
    "validation",
    "ids[0]",
  );
  await fails(
    admin,
    post("/api/jobs/actions", { action: "fail", ids: [] }),
    422,
    "validation",
    "ids",
  );
  await fails(admin, post("/api/jobs/actions", { action: "fail" }), 422, "validation", "ids");
  await fails(
    admin,
    post("/api/jobs/actions", { action: "reschedule", ids: [id], runAt: "tomorrow" }),
    422,
    "validation",
    "runAt",
  );
  await fails(
    admin,
    post("/api/jobs/actions", { action: "reschedule", ids: [id], priority: 1e6 }),
    422,
    "validation",
    "priority",
  );
  await fails(
    admin,
    post("/api/jobs/actions", { action: "reschedule", ids: [id] }),
    422,
    "validation",
    "runAt",
  );
  await fails(
    admin,
    post("/api/jobs/actions", { action: "fail", filter: { state: "bogus" }, expectedCount: 1 }),
    422,
    "validation",
    "filter.state",
  );
  await fails(
    admin,
    post("/api/jobs/actions", { action: "fail", filter: { task: "bad_task" } }),
    422,
    "validation",
    "expectedCount",
  );
  await fails(
    admin,
    post("/api/jobs", { taskIdentifier: "t", priority: "high" }),
    422,
    "validation",
    "priority",
  );
  await fails(
    admin,
    post("/api/jobs", { taskIdentifier: "" }),
    422,
    "validation",
    "taskIdentifier",
  );
  await fails(admin, post("/api/jobs", { payload: {} }), 422, "validation", "taskIdentifier");
  await fails(
    admin,
    post("/api/jobs", { taskIdentifier: "t", jobKeyMode: "x" }),
    422,
    "validation",
    "jobKeyMode",
  );
  await fails(
    admin,
    post("/api/jobs", { taskIdentifier: "t", runAt: 5 }),
    422,
    "validation",
    "runAt",
  );
  await fails(admin, post("/api/maintenance", { action: "migrate" }), 403, "forbidden");
  await fails(admin, post("/api/maintenance", { action: "vacuum" }), 422, "validation", "action");
  await fails(
    admin,
    post("/api/maintenance", { action: "sweep", threshold: -5 }),
    422,
    "validation",
    "threshold",
  );
  await fails(
    admin,
    post("/api/maintenance", { action: "cleanup", tasks: ["DROP"] }),
    422,
    "validation",
    "tasks[0]",
  );
  await fails(
    admin,
    post("/api/maintenance", { action: "force-unlock", workerIds: [] }),
    422,
    "validation",
  );
  await fails(admin, post("/api/jobs/remove-by-key", { key: "" }), 422, "validation", "key");
  await fails(admin, post("/api/jobs/remove-by-key", { key: "missing" }), 404, "not_found");
  await fails(
    admin,
    req("/api/jobs", { body: "{}", headers: { "content-type": "text/plain" } }),
    415,
    "unsupported_media_type",
  );
  await fails(
    admin,
    new Request("http://admin.test/api/jobs", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "x-spool-request": "1" },
      body: "{}",
    }),
    415,
    "unsupported_media_type",
  );
  const huge = JSON.stringify({ taskIdentifier: "t", payload: "x".repeat(1_100_000) });
  await fails(admin, post("/api/jobs", huge), 413, "too_large");
  // No Content-Length: the limit holds on the stream.
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode("x".repeat(50_000)));
      c.close();
    },
  });
  await fails(
    admin,
    new Request("http://admin.test/api/jobs", {
      method: "POST",
      headers: {
        authorization: `Bearer ${TOKEN}`,
        "x-spool-request": "1",
        "content-type": "application/json",
      },
      body: stream,
      duplex: "half",
    } as RequestInit),
    413,
    "too_large",
  );
  for (
    const query of [
      "limit=-1",
      "limit=0",
      "limit=101",
      "limit=abc",
      "limit=1.5",
      "bogus=1",
      "state=done",
      "id=1,x",
      "runAtFrom=yesterday",
      "payload={",
      "order=up",
      "direction=back",
      "cursor=zzz",
      "count=yes",
      "limit=1&limit=2",
    ]
  ) {
    const field = query.split("=")[0];
    await fails(admin, req(`/api/jobs?${query}`), 400, "bad_query", field);
  }
  for (const path of ["/api/jobs/abc", "/api/jobs/-1", "/api/jobs/99999999999999999999"]) {
    await fails(admin, req(path), 400, "bad_query", "id");
  }
  const m = await admin.fetch(req("/api/jobs/actions"));
  assert.equal(m.status, 405);
  assert.equal(m.headers.get("allow"), "POST");
  await m.body?.cancel();
  await fails(admin, req("/api/overview", { method: "DELETE" }), 405, "method_not_allowed");
  await fails(admin, req("/api/jobs", { method: "OPTIONS" }), 405, "method_not_allowed");
  assert.equal(await jobsSnapshot(db), before);
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
});

test("admin errors: no SQL, stack or connection string leaks; health reports 503", async () => {
  const lines: string[] = [];
  const logger = {
    debug() {},
    info() {},
    warn() {},
    error: (m: string, meta?: Record<string, unknown>) =>
      void lines.push(`${m} ${JSON.stringify(meta)}`),
  };
  const missing = createAdmin({
    driver: db.adminDriver,
    schema: `${db.schema}_missing`,
    auth: TEST_AUTH,
    logger,
  });
  for (const path of ["/api/overview", "/api/jobs", "/api/crontabs", "/api/metrics"]) {
    const e = await fails(missing, req(path), 500, "internal");
    assert.equal(e.message, "internal error");
  }
  const h = await fails(missing, req("/api/health"), 503, "unavailable");
  assert.doesNotMatch(h.message, /relation|select|postgres:/i);
  assert.ok(lines.some((l) => /does not exist/.test(l)), "the detail went to the log");
  await missing.close();
});

test("admin onAction: who did what to which ids, with the result", async () => {
  const events: AdminActionEvent[] = [];
  const a = await db.addJob("audit_task", {});
  const b = await db.addJob("audit_task", {});
  await db.withAdmin({ onAction: (e) => void events.push(e) }, async (audited) => {
    const r = await call(
      audited,
      req("/api/jobs/actions", { body: { action: "fail", ids: [a], reason: "bad" } }),
      200,
    );
    assert.deepEqual(r, { affected: [a], skipped: [] });
  });
  assert.equal(events.length, 1);
  assert.equal(events[0].actor, "ci");
  assert.equal(events[0].role, "admin");
  assert.equal(events[0].action, "jobs.fail");
  assert.deepEqual(events[0].ids, [a]);
  assert.deepEqual(events[0].result, { affected: [a], skipped: [] });
  assert.ok(events[0].at instanceof Date);
  // A failing hook is logged; the action stands and the client gets its answer.
  await db.withAdmin({
    onAction: () => {
      throw new Error("audit store down");
    },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  }, async (broken) => {
    await call(broken, req("/api/jobs/actions", { body: { action: "complete", ids: [b] } }), 200);
  });
  assert.equal((await db.jobs()).some((j) => j.id === b), false);
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
});

test("admin on a real 127.0.0.1 port (Deno.serve / Bun.serve)", async () => {
  const server = await serveOnLoopback(admin.fetch);
  try {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const session = await fetch(`${server.origin}/api/session`, { headers: auth });
    assert.equal(session.status, 200);
    checkSecurityHeaders(session);
    assert.equal((await session.json()).actor, "ci");
    const added = await fetch(`${server.origin}/api/jobs`, {
      method: "POST",
      headers: {
        ...auth,
        "content-type": "application/json",
        "x-spool-request": "1",
        origin: server.origin,
      },
      body: JSON.stringify({ taskIdentifier: "served", payload: { a: 1 }, priority: 3 }),
    });
    assert.equal(added.status, 201);
    const job = await added.json();
    assert.equal(job.priority, 3);
    const cross = await fetch(`${server.origin}/api/jobs`, {
      method: "POST",
      headers: {
        ...auth,
        "content-type": "application/json",
        "x-spool-request": "1",
        origin: "http://evil.test",
      },
      body: "{}",
    });
    assert.equal(cross.status, 403);
    assert.equal((await cross.json()).error.code, "csrf");
    const none = await fetch(`${server.origin}/api/jobs/${job.id}`);
    assert.equal(none.status, 401);
    await none.body?.cancel();
  } finally {
    await server.close();
    await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  }
});

test("admin http: cleanup", async () => {
  await db.close();
});
