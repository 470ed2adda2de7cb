// deno-lint-ignore-file no-console
/**
 * Workers beside an HTTP server: `deno run -A examples/web_server.ts` (or
 * `bun examples/web_server.ts`), then for example
 *
 * ```sh
 * curl -X POST 'http://127.0.0.1:3000/schedule/example?name=ada&value=42'
 * curl -X POST 'http://127.0.0.1:3000/schedule/database?query=pending&delay=10'
 * curl http://127.0.0.1:3000/health
 * ```
 *
 * A `Deno.serve` (or `Bun.serve`) app on 127.0.0.1 shares the worker's `WorkerUtils` with its
 * request handlers, which add jobs; a primary and a second worker process them from the same
 * database. Ctrl+C stops both workers gracefully, then the server. `--port N` picks the port
 * (0: any free one); `--self-test` sends the requests above itself, waits for the jobs and
 * stops, for a bounded run.
 *
 * DATABASE_URL selects PostgreSQL (each worker opens its own pool); unset (or empty), one
 * in-memory PGlite database is shared by both workers. SPOOL_SCHEMA picks the schema
 * (default "spool_examples").
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  consoleLogger,
  createWorker,
  defineTask,
  type Driver,
  extension,
  ValidationError,
  type Worker,
  type WorkerUtils,
} from "../mod.ts";
import { pglite } from "../src/driver/pglite.ts";

const { values } = parseArgs({
  options: { port: { type: "string", default: "3000" }, "self-test": { type: "boolean" } },
});
const database = process.env.DATABASE_URL || undefined;
const schema = process.env.SPOOL_SCHEMA ?? "spool_examples";
const ran = { example: 0, database: 0 };
/** Which of the two workers runs a job (each worker provides its own value). */
const WorkerName = extension<string>("worker_name");

// ---- tasks ---------------------------------------------------------------------------------
const exampleTask = defineTask({
  identifier: "example_task",
  payload: z.object({ name: z.string().min(1), value: z.number().int() }),
  async run(payload, ctx) {
    ctx.logger.info(`example_task ${payload.name}=${payload.value}`);
    await new Promise((r) => setTimeout(r, 100));
    ran.example++;
    console.log(
      `example_task: ${payload.name}=${payload.value} done by the ${ctx.ext(WorkerName)} worker`,
    );
  },
});

const databaseTask = defineTask({
  identifier: "database_task",
  payload: z.object({ query: z.string().min(1) }),
  async run(payload, ctx) {
    // The worker's own pool, from inside a task.
    const { rows } = await ctx.query<{ n: number }>(
      `select count(*)::int as n from "${schema.replaceAll('"', '""')}".jobs`,
    );
    ran.database++;
    console.log(`database_task (${payload.query}): ${rows[0].n} job(s) in the table`);
  },
});

// ---- workers -------------------------------------------------------------------------------
// Without DATABASE_URL both workers must share one in-memory database: one PGlite driver.
const shared: Driver | undefined = database ? undefined : pglite();
const common = {
  database,
  driver: shared,
  schema,
  tasks: [exampleTask, databaseTask],
  pollInterval: 500,
  logger: consoleLogger({ level: "warn" }),
};
const primary: Worker = await createWorker({
  ...common,
  concurrency: 2,
  extensions: [WorkerName.provide("primary")],
});
const secondary: Worker = await createWorker({
  ...common,
  concurrency: 1,
  extensions: [WorkerName.provide("second")],
});
const utils: WorkerUtils = primary.utils; // shared with every request handler
await utils.migrate();

// ---- HTTP ----------------------------------------------------------------------------------
function text(status: number, body: string): Response {
  return new Response(body + "\n", { status, headers: { "content-type": "text/plain" } });
}

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const q = url.searchParams;
  const route = `${request.method} ${url.pathname}`;
  try {
    switch (route) {
      case "GET /":
        return text(200, "Spool web example: POST /schedule/example, POST /schedule/database");
      case "GET /health":
        return text(200, `ok: ${ran.example} example and ${ran.database} database job(s) run`);
      case "POST /schedule/example": {
        const value = Number(q.get("value") ?? "0");
        const job = await utils.addJob(exampleTask, { name: q.get("name") ?? "", value });
        return text(201, `scheduled example_task as job ${job.id}`);
      }
      case "POST /schedule/database": {
        const query = q.get("query");
        if (!query) return text(400, "missing ?query=");
        const delay = Number(q.get("delay") ?? "10");
        const job = await utils.addJob(databaseTask, { query }, {
          priority: -10,
          runAt: new Date(Date.now() + delay * 1000),
          jobKey: `db_task_${Date.now()}`,
        });
        return text(201, `scheduled database_task as job ${job.id} for ${job.runAt.toISOString()}`);
      }
      default:
        return text(404, `not found: ${route}`);
    }
  } catch (error) {
    // A payload that fails its schema is the caller's mistake; anything else is ours.
    if (error instanceof ValidationError) return text(400, error.message);
    console.error(error);
    return text(500, "internal error");
  }
}

interface Server {
  port: number;
  stop(): Promise<void>;
}

/** Deno.serve or Bun.serve, on 127.0.0.1. */
function serve(port: number): Server {
  const g = globalThis as unknown as {
    Bun?: {
      serve(o: { hostname: string; port: number; fetch: typeof handle }): {
        port: number;
        stop(): Promise<void>;
      };
    };
  };
  if (g.Bun) {
    const server = g.Bun.serve({ hostname: "127.0.0.1", port, fetch: handle });
    return { port: server.port, stop: () => server.stop() };
  }
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handle);
  return { port: server.addr.port, stop: () => server.shutdown() };
}

const server = serve(Number(values.port));
const base = `http://127.0.0.1:${server.port}`;
console.log(`Listening on ${base}`);

const running = Promise.all([primary.run(), secondary.run()]);

if (values["self-test"]) {
  const call = async (method: string, path: string) => {
    const response = await fetch(base + path, { method });
    console.log(`${method} ${path} -> ${response.status} ${(await response.text()).trim()}`);
  };
  await call("GET", "/health");
  await call("POST", "/schedule/example?name=ada&value=1");
  await call("POST", "/schedule/example?name=grace&value=2");
  await call("POST", "/schedule/database?query=pending&delay=0");
  await call("POST", "/schedule/example?value=3"); // no name: the payload schema refuses it
  await call("GET", "/nowhere");
  while (ran.example < 2 || ran.database < 1) await new Promise((r) => setTimeout(r, 50));
  await call("GET", "/health");
  await Promise.all([primary.stop(), secondary.stop()]);
}

await running; // both workers stopped (Ctrl+C, SIGTERM, or the self-test)
await server.stop();
await shared?.close();
console.log("Workers and server stopped");
