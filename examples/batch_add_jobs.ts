// deno-lint-ignore-file no-console
/**
 * Adding many jobs in one round trip: `deno run -A examples/batch_add_jobs.ts`
 * (or `bun examples/batch_add_jobs.ts`).
 *
 * `addJobs(task, specs)` adds jobs of one typed task (each payload checked against the
 * task's schema); `addRawJobs(specs)` adds jobs of several task identifiers at once, each
 * with its own JSON payload and options. The urgent payment (priority -10) runs first; a
 * worker with concurrency 1 then runs the rest in order, once.
 *
 * DATABASE_URL selects PostgreSQL; unset (or empty), an in-memory PGlite database is used.
 * SPOOL_SCHEMA picks the schema (default "spool_examples").
 */
import process from "node:process";
import { z } from "zod";
import { consoleLogger, createWorker, defineTask } from "../mod.ts";

const sendEmail = defineTask({
  identifier: "send_email",
  payload: z.object({ to: z.string().email(), subject: z.string() }),
  run: (p) => console.log(`send_email: "${p.subject}" to ${p.to}`),
});
const processPayment = defineTask({
  identifier: "process_payment",
  payload: z.object({ user_id: z.number(), amount: z.number() }),
  run: (p) => console.log(`process_payment: ${p.amount} for user ${p.user_id}`),
});

await using worker = await createWorker({
  database: process.env.DATABASE_URL || undefined,
  schema: process.env.SPOOL_SCHEMA ?? "spool_examples",
  tasks: [sendEmail, processPayment],
  concurrency: 1,
  logger: consoleLogger({ level: "warn" }),
});
await worker.utils.migrate();

// One task, typed payloads: checked against send_email's schema before anything is sent.
const emails = await worker.utils.addJobs(sendEmail, [
  { payload: { to: "alice@example.com", subject: "Welcome" } },
  { payload: { to: "bob@example.com", subject: "Welcome" } },
  { payload: { to: "carol@example.com", subject: "Welcome" } },
]);
console.log(`addJobs: ${emails.length} send_email jobs in one statement`);

// Mixed identifiers: raw JSON payloads, per-job options.
const mixed = await worker.utils.addRawJobs([
  { identifier: "send_email", payload: { to: "dave@example.com", subject: "Notification" } },
  {
    identifier: "process_payment",
    payload: { user_id: 123, amount: 50 },
    options: { priority: -10 },
  },
]);
console.log(`addRawJobs: ${mixed.map((j) => j.taskIdentifier).join(" + ")} in one statement`);

await worker.runOnce();
console.log("All jobs ran");
