/**
 * A system-neutral producer: jobs go in through one `add_jobs` call per
 * batch (graphile-worker's schema function, which both systems share), so
 * the producer costs the same whichever system drains the queue.
 */
import postgres from "postgres";

/** Job spec JSON for `add_jobs`: payload `{ i }` (plus `t` when given), task "bench". */
export function specJson(i: number, queue: string | null = null, t?: number): string {
  const payload = t === undefined ? `{"i":${i}}` : `{"i":${i},"t":${t}}`;
  return `{"identifier":"bench","payload":${payload}${
    queue === null ? "" : `,"queue_name":${JSON.stringify(queue)}`
  }}`;
}

/** Adds batches of job specs to `schema` over one connection of its own. */
export class Producer {
  #sql: postgres.Sql;
  #text: string;

  constructor(url: string, schema: string, applicationName: string) {
    const u = new URL(url);
    u.searchParams.set("application_name", applicationName);
    this.#sql = postgres(u.toString(), { max: 1, onnotice: () => {} });
    const s = `"${schema}"`;
    this.#text = `select count(*)::int as n from ${s}.add_jobs(
      array(select json_populate_recordset(null::${s}.job_spec, $1::text::json)))`;
  }

  /** Add the jobs whose spec JSON is in `specs`, in one statement. */
  async add(specs: string[]): Promise<void> {
    if (specs.length > 0) {
      await this.#sql.unsafe(this.#text, [`[${specs.join(",")}]`], { prepare: true });
    }
  }

  async close(): Promise<void> {
    await this.#sql.end();
  }
}
