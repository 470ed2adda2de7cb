/**
 * `spool run` as a real process: --once exits 0 when drained; /healthz and
 * /readyz through a real port, 503 while draining and while the database is
 * unreachable (through a TCP proxy the test cuts, never the shared server),
 * recovering by itself; SIGTERM drains and exits 0; a second signal stops at
 * once, handing the running job back.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { setupDb, type TestDb, waitFor } from "./fixtures/worker_helpers.ts";
import { spool, type SpoolProcess, startSpool, tasksPath } from "./fixtures/cli_helpers.ts";
import { startTcpProxy } from "./fixtures/tcp_proxy.ts";
import { serveHttp } from "../src/runtime/serve.ts";

let db: TestDb;
const env = () => ({ SPOOL_SCHEMA: db.schema });

async function done(kind: string): Promise<number> {
  const [{ n }] = await db.sql.unsafe(
    `select count(*)::int as n from ${db.s}.cli_done where task = $1`,
    [kind],
  );
  return n;
}

/** A port nothing listens on right now (bound, then released). */
async function freePort(): Promise<number> {
  const server = await serveHttp(() => new Response(""), { port: 0 });
  const port = server.port;
  await server.close();
  return port;
}

interface Check {
  ok: boolean;
  detail?: string;
}
/** A /healthz or /readyz answer (status 0: nothing listens). */
interface Probe {
  status: number;
  body: { status?: string; checks: Record<string, Check> } | null;
}

async function probe(port: number, path: string): Promise<Probe> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.json() };
  } catch {
    return { status: 0, body: null };
  }
}

async function stopAll(p: SpoolProcess): Promise<void> {
  p.kill("SIGKILL");
  await p.done;
}

test("cli run: setup", async () => {
  db = await setupDb("cli_run");
  await db.sql.unsafe(`create table ${db.s}.cli_done (task text, payload text)`);
});

test("cli run --once runs every runnable job and exits 0", async () => {
  for (const name of ["a", "b", "c"]) await db.addJob("hello", { name });
  await db.addJob("hello", { name: "later" }, { runAt: new Date(Date.now() + 3_600_000) });
  const r = await spool(["run", "--tasks", tasksPath, "--once", "--concurrency", "2"], {
    env: env(),
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(await done("hello"), 3);
  assert.equal((await db.jobs()).length, 1, "only the future job is left");
  const bad = await spool(["run", "--tasks", tasksPath, "--once", "--concurrency", "0"], {
    env: env(),
  });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--concurrency/);
  const noTasks = await spool(["run", "--once"], { env: env() });
  assert.equal(noTasks.code, 2);
  assert.match(noTasks.stderr, /--tasks/);
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
});

test("cli run --job-timeout: a job over the limit is aborted and fails with the timeout; a bad value exits 2", async () => {
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  await db.addJob("slow", { ms: 30_000 }, { maxAttempts: 1 });
  const t0 = Date.now();
  const r = await spool(["run", "--tasks", tasksPath, "--once", "--job-timeout", "300ms"], {
    env: env(),
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(Date.now() - t0 < 20_000, "the 30 s job did not run to its end");
  const [job] = await db.jobs();
  assert.equal(job.attempts, 1);
  assert.match(job.last_error ?? "", /timed out after/);
  assert.equal(await done("slow-done"), 0);
  await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  await db.sql.unsafe(`delete from ${db.s}.cli_done where task like 'slow%'`);
  const bad = await spool(["run", "--tasks", tasksPath, "--once", "--job-timeout", "soon"], {
    env: env(),
  });
  assert.equal(bad.code, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /--job-timeout/);
});

test("cli run: /healthz and /readyz; SIGTERM drains the running job (503 meanwhile) and exits 0", async () => {
  const port = await freePort();
  const p = startSpool(
    [
      "run",
      "--tasks",
      tasksPath,
      "--health-port",
      String(port),
      "--grace-period",
      "30s",
      "--poll-interval",
      "200",
    ],
    { env: env() },
  );
  try {
    const ready = await waitFor("/readyz 200", async () => {
      const r = await probe(port, "/readyz");
      return r.status === 200 ? r : undefined;
    }, 40_000);
    assert.equal(ready.body?.status, "ok");
    assert.deepEqual(Object.keys(ready.body?.checks ?? {}).sort(), [
      "database",
      "heartbeat",
      "listen",
      "worker",
    ]);
    assert.deepEqual(await probe(port, "/healthz"), { status: 200, body: { status: "ok" } });
    assert.equal((await probe(port, "/nope")).status, 404);

    await db.addJob("slow", { ms: 2500 });
    await waitFor("the slow job to start", () => done("slow-start").then((n) => n === 1), 30_000);
    p.kill("SIGTERM");
    const draining = await waitFor("/readyz 503 while draining", async () => {
      const r = await probe(port, "/readyz");
      return r.status === 503 ? r : undefined;
    }, 10_000);
    assert.equal(draining.body?.checks.worker.ok, false);
    assert.match(draining.body?.checks.worker.detail ?? "", /shutting down/);
    assert.equal((await probe(port, "/healthz")).status, 200, "alive while draining");
    const r = await p.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(await done("slow-done"), 1, "the running job finished within the grace period");
    assert.equal((await db.jobs()).length, 0);
    assert.equal((await probe(port, "/healthz")).status, 0, "the port is closed after exit");
  } finally {
    await stopAll(p);
  }
});

test("cli run: a second SIGTERM stops at once, handing the running job back, exit 1", async () => {
  const port = await freePort();
  const p = startSpool(
    [
      "run",
      "--tasks",
      tasksPath,
      "--grace-period",
      "60s",
      "--poll-interval",
      "200",
      "--health-port",
      String(port),
    ],
    { env: env() },
  );
  try {
    const id = await db.addJob("slow", { ms: 120_000 });
    await waitFor("the long job to start", () => done("slow-start").then((n) => n === 2), 40_000);
    p.kill("SIGTERM");
    await waitFor(
      "the drain to begin (/readyz 503)",
      async () => (await probe(port, "/readyz")).status === 503,
      10_000,
    );
    p.kill("SIGTERM");
    const r = await p.done;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const [job] = await db.jobs();
    assert.equal(job.id, id);
    assert.equal(job.locked_by, null, "handed back");
    assert.equal(job.attempts, 0, "the interrupted attempt is given back");
  } finally {
    await stopAll(p);
    await db.sql.unsafe(`delete from ${db.s}._private_jobs`);
  }
});

test("cli run: /readyz is 503 while the database is unreachable and 200 again once it is back", async () => {
  const target = new URL(databaseUrl());
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const via = new URL(databaseUrl());
  via.hostname = "127.0.0.1";
  via.port = String(proxy.port);
  const port = await freePort();
  const p = startSpool(
    [
      "run",
      "--tasks",
      tasksPath,
      "--health-port",
      String(port),
      "--poll-interval",
      "200",
      "--heartbeat-interval",
      "1s",
    ],
    { env: { ...env(), DATABASE_URL: via.href } },
  );
  try {
    await waitFor("/readyz 200", async () => (await probe(port, "/readyz")).status === 200, 40_000);
    proxy.cut();
    const down = await waitFor("/readyz 503", async () => {
      const r = await probe(port, "/readyz");
      return r.status === 503 ? r : undefined;
    }, 20_000);
    assert.equal(down.body?.checks.database.ok, false, JSON.stringify(down.body));
    assert.equal((await probe(port, "/healthz")).status, 200, "alive while the database is away");
    await proxy.restore();
    const back = await waitFor("/readyz 200 again", async () => {
      const r = await probe(port, "/readyz");
      return r.status === 200 ? r : undefined;
    }, 60_000);
    assert.equal(back.body?.checks.listen.ok, true);
    await db.addJob("hello", { name: "after outage" });
    await waitFor("a job after the outage", () => done("hello").then((n) => n === 4), 30_000);
    p.kill("SIGTERM");
    assert.equal((await p.done).code, 0);
  } finally {
    await stopAll(p);
    await proxy.close();
  }
});

test("cli admin: serves the admin API with auth on 127.0.0.1 until SIGTERM; --no-auth off loopback is refused", async () => {
  const port = await freePort();
  const password = "cli-test-password-0123";
  const p = startSpool(["admin", "--port", String(port), "--read-only"], {
    env: { ...env(), SPOOL_ADMIN_PASSWORD: password },
  });
  try {
    const url = `http://127.0.0.1:${port}/api/health`;
    const authed = await waitFor("the admin to answer", async () => {
      try {
        const res = await fetch(url, {
          headers: { authorization: `Basic ${btoa(`admin:${password}`)}` },
        });
        return res.status === 200 ? await res.json() : undefined;
      } catch {
        return undefined;
      }
    }, 40_000);
    assert.equal(authed.schema, db.schema);
    const anonymous = await fetch(url);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    const session = await fetch(`http://127.0.0.1:${port}/api/session`, {
      headers: { authorization: `Basic ${btoa(`admin:${password}`)}` },
    });
    assert.equal((await session.json()).readOnly, true, "--read-only reaches the admin");
    p.kill("SIGTERM");
    const r = await p.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`Spool admin on http://127\\.0\\.0\\.1:${port}/`));
    assert.doesNotMatch(r.stderr, new RegExp(password), "a given password is not printed");
  } finally {
    await stopAll(p);
  }
  const refused = await spool(["admin", "--no-auth", "--host", "0.0.0.0"], { env: env() });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--no-auth/);
});

test("cli run: teardown", async () => {
  await db.close();
});
