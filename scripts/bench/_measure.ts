/**
 * Measurement helpers shared by the benchmark child processes: client CPU,
 * peak RSS, and the CPU time of this process's PostgreSQL backends (read from
 * /proc/<pid>/stat, so the server must run on this machine; otherwise the
 * backend figures are reported as null).
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import postgres from "postgres";

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** Client CPU (user + system) in microseconds since process start. */
export function clientCpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Peak resident set size of this process in MiB (VmHWM), or null off Linux. */
export function peakRssMiB(): number | null {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function procCpuMicros(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name "(…)": state is field 3; utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1e6) / TICKS;
  } catch {
    return null;
  }
}

/** Reads the CPU time of the backends whose application_name is `tag`. */
export class BackendCpu {
  #sql: postgres.Sql;
  #tag: string;

  constructor(url: string, tag: string) {
    this.#sql = postgres(url, {
      max: 1,
      onnotice: () => {},
      connection: { application_name: "spool_bench_probe" },
    });
    this.#tag = tag;
  }

  /** Sum of CPU µs of the tagged backends (each since it started), or null if unreadable. */
  async snapshot(): Promise<{ micros: number; backends: number } | null> {
    const rows = await this.#sql<{ pid: number }[]>`
      select pid from pg_stat_activity where application_name = ${this.#tag}`;
    let micros = 0;
    for (const { pid } of rows) {
      const m = procCpuMicros(pid);
      if (m === null) return null;
      micros += m;
    }
    return { micros, backends: rows.length };
  }

  /** True when the jobs table of `schema` is empty. */
  async empty(schema: string): Promise<boolean> {
    const rows = await this.#sql.unsafe(
      `select not exists (select 1 from "${schema}"._private_jobs) as empty`,
    );
    return rows[0].empty === true;
  }

  async close(): Promise<void> {
    await this.#sql.end();
  }
}

/** Percentile (nearest rank) of sorted `values`. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Sleep `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
