/**
 * The dashboard in headless Chromium against the real admin handler and PostgreSQL, served
 * under /ops/queue/ by Deno.serve (deno test) or Bun.serve (bun test).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import process from "node:process";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { test } from "./_harness.ts";
import { adminSql, databaseUrl, dropSchema, uniqueSchema } from "./_db.ts";
import { serveOnLoopback, type TestServer } from "./fixtures/http_serve.ts";
import { launchChromium, type PageProblems, watchProblems } from "./fixtures/browser.ts";
import { seedEveryState } from "./fixtures/dashboard_seed.ts";
import { createAdmin } from "../src/admin/create_admin.ts";
import { basicHeader } from "./fixtures/dashboard_seed.ts";

const runtime = typeof (globalThis as Record<string, unknown>).Bun === "object" ? "bun" : "deno";
const schema = uniqueSchema("dash");
const sql = adminSql(2);
const S = `"${schema}"`;
const BASE = "/ops/queue/";
const SHOTS = new URL("./.screenshots/", import.meta.url);
const ADMIN = basicHeader("admin", "admin-password-1");
const VIEWER = basicHeader("viewer", "viewer-password-1");
// Page-side code sees the DOM; this file is type-checked without the DOM library.
type Doc = {
  document: {
    querySelectorAll(s: string): ArrayLike<{ getAttribute(name: string): string | null }>;
    documentElement: { scrollWidth: number };
  };
};
/** True when the job table lists exactly these ids, in this order (runs in the page). */
const LISTS = (ids: string) =>
  Array.from(
    (globalThis as unknown as Doc).document.querySelectorAll("tbody tr[data-job]"),
    (r) => r.getAttribute("data-job"),
  ).join(",") === ids;

/** Waits until the table shows exactly `ids` (a re-render follows every navigation). */
async function expectListed(page: Page, ids: string[]): Promise<void> {
  await page.waitForFunction(LISTS, ids.join(","));
}

let server: TestServer | undefined;
let browser: Browser | undefined;
let admin: ReturnType<typeof createAdmin> | undefined;

async function setup(): Promise<{ origin: string; browser: Browser }> {
  if (server && browser) return { origin: server.origin, browser };
  await seedEveryState(sql, schema);
  admin = createAdmin({
    database: databaseUrl(),
    schema,
    basePath: BASE,
    countCacheTtl: 0,
    auth: {
      basic: [
        { username: "admin", password: "admin-password-1" },
        { username: "viewer", password: "viewer-password-1", role: "viewer" },
      ],
    },
  });
  server = await serveOnLoopback(admin.fetch);
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
  return { origin: server.origin, browser };
}

interface Opened {
  page: Page;
  context: BrowserContext;
  problems: PageProblems;
}

/** A fresh context signed in (credentials in sessionStorage, as the sign-in form leaves them). */
async function open(
  query = "",
  options: { auth?: string | null; refresh?: string; width?: number } = {},
): Promise<Opened> {
  const { origin, browser } = await setup();
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 860 },
    colorScheme: "light",
  });
  const auth = options.auth === undefined ? ADMIN : options.auth;
  await context.addInitScript(
    ({ auth, refresh }: { auth: string | null; refresh: string }) => {
      if (auth) sessionStorage.setItem("spool.auth", auth);
      localStorage.setItem("spool.refresh", refresh);
    },
    { auth, refresh: options.refresh ?? "0" },
  );
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const problems = watchProblems(page);
  await page.goto(`${origin}${BASE}${query}`);
  return { page, context, problems };
}

async function done(o: Opened, shot?: string): Promise<void> {
  if (shot) {
    await o.page.screenshot({
      path: new URL(`${runtime}-${shot}.png`, SHOTS).pathname,
      fullPage: true,
    });
  }
  const problems = [...o.problems.list];
  await o.context.close();
  assert.deepEqual(problems, [], "no console errors and no failed requests");
}

async function cardValue(page: Page, name: string): Promise<string> {
  return (await page.locator(`[data-card="${name}"] .value`).textContent()) ?? "";
}

async function idsWhere(where: string): Promise<string[]> {
  const rows = await sql.unsafe(
    `select j.id::text as id from ${S}._private_jobs j
     join ${S}._private_tasks t on t.id = j.task_id where ${where} order by j.id desc`,
  );
  return rows.map((r) => r.id as string);
}

test(`${runtime}: the overview shows the seeded counts, tables and schedule`, async () => {
  const o = await open("", { refresh: "2" });
  const { page } = o;
  await page.locator('[data-card="total"] .value').waitFor();
  assert.equal(await cardValue(page, "ready"), "63");
  assert.equal(await cardValue(page, "blocked"), "1");
  assert.equal(await cardValue(page, "scheduled"), "2");
  assert.equal(await cardValue(page, "retrying"), "1");
  assert.equal(await cardValue(page, "running"), "1");
  assert.equal(await cardValue(page, "failed"), "2");
  assert.equal(await cardValue(page, "total"), "70");
  await page.getByText("Oldest ready job has waited").waitFor();
  const emailRow = page.locator("tr", {
    has: page.getByRole("link", { name: "email", exact: true }),
  });
  assert.deepEqual(
    await emailRow.locator("td").allTextContents(),
    ["email", "3", "0", "0", "1", "0", "2", "6"],
  );
  // Two report jobs and the retrying one are due within the hour, in three 5-minute buckets.
  await page.getByText("3 jobs, 5-minute buckets.").waitFor();
  assert.equal(await page.locator('rect.bar:not([height="0"])').count(), 3);
  // Two samples taken by the page's own polling draw the chart.
  await page.locator("path.line.ready").waitFor({ state: "attached", timeout: 60_000 });
  assert.match((await page.locator("path.line.ready").getAttribute("d")) ?? "", /^M0 [\d.]+L/);
  assert.equal(await page.title(), "Overview · Spool");
  await done(o, "overview");
  // The README's picture of the jobs view (refresh it with SPOOL_DOCS_SCREENSHOT=1).
  if (process.env.SPOOL_DOCS_SCREENSHOT === "1" && runtime === "deno") {
    const jobs = await open("?view=jobs");
    await jobs.page.locator("tbody tr[data-job]").first().waitFor();
    await jobs.page.locator('tbody tr[data-job] input[type="checkbox"]').nth(1).check();
    await jobs.page.locator('tbody tr[data-job] input[type="checkbox"]').nth(2).check();
    await jobs.page.screenshot({
      path: new URL("../docs/dashboard_jobs.png", import.meta.url).pathname,
    });
    await done(jobs);
  }
});

test(`${runtime}: filtering by task and by state shows exactly the matching rows`, async () => {
  const o = await open("?view=jobs");
  const { page } = o;
  await page.locator('.tabs a[data-state="failed"]').click();
  await page.waitForURL(/state=failed/);
  await page.getByLabel("Task").fill("email");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/task=email/);
  const expected = await idsWhere(
    "t.identifier = 'email' and j.attempts >= j.max_attempts and j.locked_at is null",
  );
  assert.equal(expected.length, 2);
  await expectListed(page, expected);
  // Scheduled jobs of another task: a different, exact set.
  await page.locator('.tabs a[data-state="scheduled"]').click();
  await page.getByLabel("Task").fill("report");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/state=scheduled&task=report/);
  const reports = await idsWhere("t.identifier = 'report'");
  assert.equal(reports.length, 2);
  await expectListed(page, reports);
  // Empty state, then back to the previous filter with the browser's Back button.
  await page.locator('.tabs a[data-state="running"]').click();
  await page.getByText("No running jobs match these filters.").waitFor();
  await page.goBack();
  await page.waitForURL(/state=scheduled&task=report/);
  await expectListed(page, reports);
  assert.equal(await page.getByLabel("Task").inputValue(), "report");
  // A filter the server refuses is shown as its message, not as a blank page.
  await page.getByLabel("Payload contains (JSON)").fill("{not json");
  await page.getByRole("button", { name: "Apply" }).click();
  const alert = page.getByRole("alert").filter({ hasText: "Could not load this page" });
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? "", /payload/);
  o.problems.allow(/400/);
  await done(o, "jobs-filtered");
});

test(`${runtime}: a failed job's drawer shows its error; retry makes it ready`, async () => {
  const [id] = await idsWhere("t.identifier = 'email' and j.attempts >= j.max_attempts");
  const o = await open("?view=jobs&state=failed");
  const { page } = o;
  await page.locator(`tr[data-job="${id}"] a`).click();
  await page.waitForURL(new RegExp(`job=${id}`));
  const drawer = page.getByTestId("job-drawer");
  await drawer.waitFor();
  assert.match((await drawer.getByTestId("last-error").textContent()) ?? "", /boom: SMTP refused/);
  assert.match(
    (await drawer.getByTestId("payload").textContent()) ?? "",
    /"to": "f\d@example.com"/,
  );
  await page.screenshot({ path: new URL(`${runtime}-job-drawer.png`, SHOTS).pathname });
  await drawer.getByRole("button", { name: "Retry" }).click();
  await page.getByText("Retry: 1 job done.").waitFor();
  const [row] = await sql.unsafe(
    `select attempts, run_at <= now() as due, locked_at is null as free
     from ${S}._private_jobs where id = $1`,
    [id],
  );
  assert.deepEqual({ ...row }, { attempts: 0, due: true, free: true }, "ready in the database");
  await drawer.locator(".badge.ready").waitFor();
  // Closing the drawer drops the job from the URL.
  await drawer.getByRole("button", { name: "Close" }).click();
  await page.waitForURL((u) => !u.search.includes("job="));
  await done(o);
});

test(`${runtime}: a filter-wide bulk action confirms the number and acts on every match`, async () => {
  const o = await open("?view=jobs&task=bulk");
  const { page } = o;
  await page.locator("tbody tr[data-job]").first().waitFor();
  assert.equal(await page.locator("tbody tr[data-job]").count(), 50, "one page of 50");
  // Cursor pages: the next page holds the other 10, Back returns to the first.
  const bulkIds = await idsWhere("t.identifier = 'bulk'");
  await page.getByRole("button", { name: "Older →" }).click();
  await page.waitForURL(/cursor=/);
  await expectListed(page, bulkIds.slice(50));
  await page.goBack();
  await expectListed(page, bulkIds.slice(0, 50));
  await page.getByLabel("Select every job on this page").check();
  await page.getByRole("button", { name: "Select all 60 matching this filter" }).click();
  assert.equal(await page.getByTestId("bulk-count").textContent(), "All 60 jobs matching");
  await page.locator("[data-key=bulk-fail]").click();
  const dialog = page.locator("dialog.confirm");
  assert.match((await dialog.textContent()) ?? "", /all 60 jobs matching this filter/);
  await dialog.getByLabel("Reason").fill("bulk test reason");
  await dialog.getByRole("button", { name: "Fail 60 jobs" }).click();
  await page.getByText("Fail: 60 jobs done.").waitFor();
  const [counts] = await sql.unsafe(
    `select count(*)::int as n, count(*) filter (where attempts >= max_attempts
       and last_error = 'bulk test reason')::int as failed
     from ${S}._private_jobs j join ${S}._private_tasks t on t.id = j.task_id
     where t.identifier = 'bulk'`,
  );
  assert.deepEqual({ ...counts }, { n: 60, failed: 60 });
  await done(o, "jobs-bulk");
});

test(`${runtime}: a running job's drawer offers only Cancel, which notifies its worker`, async () => {
  const [id] = await idsWhere("j.locked_at is not null");
  const notices: string[] = [];
  const sub = await sql.listen("spool:cancel", (payload) => notices.push(payload));
  const o = await open(`?view=jobs&state=running&job=${id}`);
  const { page } = o;
  const drawer = page.getByTestId("job-drawer");
  await drawer.waitFor();
  assert.deepEqual(
    await drawer.getByRole("group", { name: "Actions on this job" }).getByRole("button")
      .allTextContents(),
    [
      "Cancel",
    ],
  );
  await drawer.getByRole("button", { name: "Cancel" }).click();
  const dialog = page.locator("dialog.confirm");
  await dialog.getByLabel("Reason").fill("browser cancel");
  await dialog.getByRole("button", { name: "Cancel 1 job" }).click();
  await page.getByText("Cancel: 1 job done.").waitFor();
  const deadline = Date.now() + 10_000;
  while (!notices.some((n) => n.includes(id)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await sub.unlisten();
  assert.ok(notices.some((n) => n.includes(id)), `a cancel notice names job ${id}`);
  await done(o);
});

test(`${runtime}: the add-job form sends every option`, async () => {
  const o = await open("?view=jobs");
  const { page } = o;
  await page.getByRole("button", { name: "Add job" }).click();
  const form = page.locator("dialog", { hasText: "Add a job" });
  await form.getByLabel("Task identifier").fill("invoice");
  await form.getByLabel("Payload (JSON)").fill("{not json");
  await form.getByRole("button", { name: "Add job" }).click();
  await form.getByText(/^Payload: not valid JSON/).waitFor();
  await form.getByLabel("Payload (JSON)").fill('{"order": 991}');
  await form.getByLabel("Queue").fill("billing");
  await form.getByLabel(/^Run at/).fill("2031-05-04T10:30");
  await form.getByLabel("Priority").fill("-3");
  await form.getByLabel("Max attempts").fill("4");
  await form.getByLabel("Job key").fill("invoice-991");
  await form.getByLabel("Key mode").selectOption("preserve_run_at");
  await form.getByLabel("Flags").fill("slow, billing");
  await form.getByRole("button", { name: "Add job" }).click();
  await page.getByText(/^Added job \d+ \(invoice\)\./).waitFor();
  const [job] = await sql.unsafe(
    `select j.payload::text as payload, q.queue_name, j.priority, j.max_attempts, j.key,
       j.flags::text as flags, j.run_at > now() + interval '4 years' as later
     from ${S}._private_jobs j join ${S}._private_tasks t on t.id = j.task_id
     left join ${S}._private_job_queues q on q.id = j.job_queue_id
     where t.identifier = 'invoice'`,
  );
  assert.deepEqual({ ...job, payload: JSON.parse(job.payload), flags: JSON.parse(job.flags) }, {
    payload: { order: 991 },
    queue_name: "billing",
    priority: -3,
    max_attempts: 4,
    key: "invoice-991",
    flags: { slow: true, billing: true },
    later: true,
  });
  await done(o, "add-job");
});

test(`${runtime}: a viewer sees no write controls and a forged write is refused`, async () => {
  const o = await open("?view=jobs", { auth: VIEWER });
  const { page } = o;
  await page.locator("tbody tr[data-job]").first().waitFor();
  await page.locator(".badge", { hasText: "viewer" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Add job" }).count(), 0);
  assert.equal(await page.locator("tbody input[type=checkbox]").count(), 0);
  assert.equal(await page.locator("tbody button").count(), 0);
  assert.equal(await page.getByRole("link", { name: "Maintenance" }).count(), 0);
  const id = await page.locator("tbody tr[data-job]").first().getAttribute("data-job");
  await page.locator(`tr[data-job="${id}"] a`).click();
  await page.getByTestId("job-drawer").waitFor();
  assert.deepEqual(
    await page.getByTestId("job-drawer").locator("button").allTextContents(),
    ["Close", "Copy as JSON"],
  );
  await page.getByRole("button", { name: "Close" }).click();
  await page.locator('.nav a[data-view="workers"]').click();
  await page.locator("h1", { hasText: "Workers" }).waitFor();
  await page.locator("tr[data-worker]").first().waitFor();
  assert.equal(await page.getByRole("button", { name: "Force unlock" }).count(), 0);
  const before = await sql.unsafe(`select count(*)::int as n from ${S}._private_jobs`);
  const status = await page.evaluate(async (auth) => {
    const res = await fetch("api/jobs/actions", {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json", "x-spool-request": "1" },
      body: JSON.stringify({ action: "delete", filter: {}, expectedCount: 70 }),
    });
    return [res.status, (await res.json()).error.code];
  }, VIEWER);
  assert.deepEqual(status, [403, "forbidden"]);
  // An admin's credentials without the CSRF header are refused too.
  const csrf = await page.evaluate(async (auth) => {
    const res = await fetch("api/jobs/actions", {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ action: "delete", ids: ["1"] }),
    });
    return [res.status, (await res.json()).error.code];
  }, ADMIN);
  assert.deepEqual(csrf, [403, "csrf"]);
  const after = await sql.unsafe(`select count(*)::int as n from ${S}._private_jobs`);
  assert.equal(after[0].n, before[0].n, "nothing deleted");
  o.problems.allow(/status 403: .*\/ops\/queue\/api\/jobs\/actions$/);
  o.problems.allow(/^console: Failed to load resource: .* 403 \(Forbidden\)$/);
  await done(o, "viewer");
});

test(`${runtime}: every page loads under /ops/queue/ with no console error or failed request`, async () => {
  const o = await open("");
  const { page } = o;
  const { origin } = await setup();
  for (const view of ["overview", "jobs", "queues", "workers", "cron", "maintenance"]) {
    await page.locator(`.nav a[data-view="${view}"]`).click();
    await page.locator("h1", { hasText: new RegExp(`^${view}$`, "i") }).waitFor();
    await page.waitForLoadState("networkidle");
    assert.equal(new URL(page.url()).pathname, BASE);
    await page.screenshot({
      path: new URL(`${runtime}-${view}.png`, SHOTS).pathname,
      fullPage: true,
    });
  }
  await page.goto(`${origin}${BASE}?view=cron`);
  await page.getByText("nightly-report").waitFor();
  await page.goto(`${origin}${BASE}?view=workers`);
  await page.locator('tr[data-worker="worker-a"] .badge.stale').waitFor();
  await page.goto(`${origin}${BASE}?view=queues`);
  await page.locator('tr[data-queue="serial"] .badge.locked').waitFor();
  // The base path without its slash redirects to the page.
  await page.goto(`${origin}${BASE.slice(0, -1)}?view=jobs`);
  assert.equal(new URL(page.url()).pathname, BASE);
  await page.locator("tbody tr[data-job]").first().waitFor();
  // Maintenance: the sweep preview changes nothing.
  await page.goto(`${origin}${BASE}?view=maintenance`);
  await page.getByRole("button", { name: "Preview sweep (dry run)" }).click();
  await page.getByTestId("sweep-summary").waitFor();
  const [locked] = await sql.unsafe(
    `select count(*)::int as n from ${S}._private_jobs where locked_by = 'worker-a'`,
  );
  assert.equal(locked.n, 1, "a dry run releases nothing");
  await page.screenshot({ path: new URL(`${runtime}-maintenance-preview.png`, SHOTS).pathname });
  // Force-unlock, after its confirmation, releases the stale worker's job and queue.
  await page.locator('.nav a[data-view="workers"]').click();
  await page.locator('[data-key="unlock-worker-a"]').click();
  const dialog = page.locator("dialog.confirm");
  assert.match((await dialog.textContent()) ?? "", /Releases 1 job and 1 queue locked by worker-a/);
  await dialog.getByRole("button", { name: "Force unlock" }).click();
  await page.getByText("Unlocked the jobs and queues of worker-a.").waitFor();
  const [held] = await sql.unsafe(
    `select (select count(*) from ${S}._private_jobs where locked_by = 'worker-a')::int
       + (select count(*) from ${S}._private_job_queues where locked_by = 'worker-a')::int as n`,
  );
  assert.equal(held.n, 0);
  await done(o);
});

test(`${runtime}: phone width, dark scheme and the first load's transfer size`, async () => {
  const { origin, browser } = await setup();
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    colorScheme: "dark",
  });
  await context.addInitScript((auth: string) => {
    sessionStorage.setItem("spool.auth", auth);
    localStorage.setItem("spool.refresh", "0");
  }, ADMIN);
  const page = await context.newPage();
  const problems = watchProblems(page);
  let transferred = 0;
  let ui = 0;
  const sizes: Promise<void>[] = [];
  page.on("requestfinished", (r) => {
    sizes.push(
      r.sizes().then((s) => {
        const bytes = s.responseBodySize + s.responseHeadersSize;
        transferred += bytes;
        if (!new URL(r.url()).pathname.startsWith(`${BASE}api/`)) ui += bytes;
      }),
    );
  });
  await page.goto(`${origin}${BASE}?view=jobs`);
  await page.locator("tbody tr[data-job]").first().waitFor();
  await page.waitForLoadState("networkidle");
  await Promise.all(sizes);
  const scroll = await page.evaluate(() =>
    (globalThis as unknown as Doc).document.documentElement.scrollWidth
  );
  assert.ok(scroll <= 390, `no horizontal page scroll at phone width (${scroll}px)`);
  process.stdout.write(
    `first load of the jobs view: ${transferred} bytes transferred, ${ui} of them the page ` +
      `and its assets (headers included)\n`,
  );
  assert.ok(ui < 50_000, `the dashboard's own files took ${ui} bytes`);
  await page.screenshot({
    path: new URL(`${runtime}-phone-jobs.png`, SHOTS).pathname,
    fullPage: true,
  });
  await context.close();
  assert.deepEqual(problems.list, []);
});

test(`${runtime}: on 401 the sign-in form takes a username and password`, async () => {
  const o = await open("?view=queues", { auth: null });
  const { page } = o;
  await page.getByRole("heading", { name: "Sign in to Spool" }).waitFor();
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill("wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Those credentials were not accepted.").waitFor();
  await page.getByLabel("Password").fill("admin-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("h1", { hasText: "Queues" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("spool.auth")), ADMIN);
  o.problems.allow(/401/);
  await done(o, "signin");
});

test(`${runtime}: teardown`, async () => {
  await browser?.close();
  await server?.close();
  await admin?.close();
  await sql.end();
  await dropSchema(schema);
});
