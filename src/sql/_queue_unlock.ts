/**
 * The statement that releases the named queues of jobs a worker just let go
 * of (completed, failed, handed back, reclaimed, cancelled): only queues that
 * worker (`$1`) still holds. One text, used as a CTE or as the final statement.
 */
export function queueUnlockSql(s: string, jobsCte: string): string {
  return `update ${s}._private_job_queues as queues
  set locked_by = null, locked_at = null
  from ${jobsCte}
  where queues.id = ${jobsCte}.job_queue_id and queues.locked_by = $1::text`;
}
