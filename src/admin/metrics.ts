/**
 * `GET api/metrics`: the overview as OpenMetrics text (Prometheus reads it
 * too): jobs by state, per task and per queue, queue locks, the oldest ready
 * job's age, workers alive and stale. The counts are the overview's (cheap,
 * shared, flagged by `spool_counts_estimated`).
 *
 * @module
 */
import { JOB_STATES } from "../sql/admin_jobs.ts";
import type { AdminContext } from "./_context.ts";
import type { StateCounts } from "./_counts.ts";
import { loadOverview } from "./_overview.ts";

const OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

/** A label value escaped as the exposition formats require. */
function label(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function family(out: string[], name: string, help: string): void {
  out.push(`# TYPE ${name} gauge`, `# HELP ${name} ${help}`);
}

function byState(out: string[], name: string, labels: string, counts: StateCounts): void {
  for (const s of JOB_STATES) out.push(`${name}{${labels}state="${s}"} ${counts[s]}`);
}

/** `GET api/metrics`. */
export async function getMetrics(ctx: AdminContext): Promise<Response> {
  const o = await loadOverview(ctx);
  const out: string[] = [];
  family(out, "spool_jobs", "Jobs by state.");
  byState(out, "spool_jobs", "", o.counts);
  family(out, "spool_task_jobs", "Jobs by task identifier and state.");
  for (const t of o.tasks) {
    byState(out, "spool_task_jobs", `task="${label(t.identifier)}",`, t.counts);
  }
  family(out, "spool_queue_jobs", "Jobs by named queue and state.");
  for (const q of o.queues) byState(out, "spool_queue_jobs", `queue="${label(q.name)}",`, q.counts);
  family(out, "spool_queue_locked", "1 when a worker holds the named queue.");
  for (const q of o.queues) {
    out.push(`spool_queue_locked{queue="${label(q.name)}"} ${q.lockedBy ? 1 : 0}`);
  }
  family(
    out,
    "spool_oldest_ready_job_age_seconds",
    "How long the longest-waiting ready job has been due.",
  );
  out.push(`spool_oldest_ready_job_age_seconds ${(o.oldestReadyAgeMs ?? 0) / 1000}`);
  family(out, "spool_workers", "Registered workers by heartbeat status.");
  const stale = o.workers.filter((w) => w.isStale).length;
  out.push(`spool_workers{status="alive"} ${o.workers.length - stale}`);
  out.push(`spool_workers{status="stale"} ${stale}`);
  family(
    out,
    "spool_unregistered_lock_holders",
    "Lock holders that never registered (e.g. graphile-worker).",
  );
  out.push(`spool_unregistered_lock_holders ${o.unregisteredLockHolders.length}`);
  family(out, "spool_counts_estimated", "1 when the job counts are estimates from a sample.");
  out.push(`spool_counts_estimated ${o.countsMeta.estimated ? 1 : 0}`);
  out.push("# EOF", "");
  const accept = ctx.request.headers.get("accept") ?? "";
  return new Response(out.join("\n"), {
    headers: {
      "Content-Type": accept.includes("application/openmetrics-text") ? OPENMETRICS : PROMETHEUS,
      "Cache-Control": "no-store",
    },
  });
}
