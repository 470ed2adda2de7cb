/**
 * A supervised LISTEN on its own postgres.js connection. postgres.js's built-in
 * `sql.listen` re-LISTENs after a reconnect but swallows connection errors, so
 * the driver could never report them; this loop reports every failure to
 * `onError`, re-LISTENs with backoff and calls `onListen` after each success.
 */
import type postgres from "postgres";
import type { ListenHandlers, Subscription } from "./types.ts";
import { quoteChannel } from "./_quote.ts";
import { SpoolError } from "../errors.ts";

/** Hooks the listener connection must be created with. */
export interface ListenerHooks {
  onnotify(channel: string, payload: string): void;
  onclose(): void;
}

type Conn = Pick<postgres.Sql, "unsafe" | "end">;

const MAX_BACKOFF_MS = 10_000;

// A throwing handler must not stop the re-LISTEN loop; report it as uncaught (as Bun.SQL does).
function call(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

function backoff(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
}

/** LISTEN on `channel` through a connection made by `connect`; the connection is ended on close. */
export async function supervisedListen(
  connect: (hooks: ListenerHooks) => Conn,
  channel: string,
  handlers: ListenHandlers,
): Promise<Subscription> {
  const statement = `listen ${quoteChannel(channel)}`;
  let closed = false;
  let drops = 0;
  let wakeDrop: (() => void) | undefined;
  let wakeNap: (() => void) | undefined;
  const conn = connect({
    onnotify(ch, payload) {
      if (ch === channel && !closed) handlers.onNotify(payload);
    },
    onclose() {
      drops++;
      wakeDrop?.();
    },
  });
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeNap = undefined;
        resolve();
      }
      wakeNap = done;
    });
  const untilDropped = async (seen: number) => {
    while (drops === seen && !closed) await new Promise<void>((resolve) => (wakeDrop = resolve));
  };

  let seen = drops;
  try {
    await conn.unsafe(statement);
  } catch (error) {
    closed = true;
    await conn.end({ timeout: 0 }).catch(() => {});
    throw error;
  }
  call(() => handlers.onListen?.());

  const loop = (async () => {
    let attempt = 0;
    while (!closed) {
      await untilDropped(seen);
      if (closed) return;
      call(() =>
        handlers.onError?.(
          new SpoolError("DRIVER", `LISTEN connection for "${channel}" closed; re-listening`),
        )
      );
      while (!closed) {
        seen = drops;
        try {
          await conn.unsafe(statement);
          attempt = 0;
          if (!closed) call(() => handlers.onListen?.());
          break;
        } catch (error) {
          if (closed) return;
          call(() => handlers.onError?.(error));
          await nap(backoff(attempt++));
        }
      }
    }
  })();

  return {
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      wakeDrop?.();
      wakeNap?.();
      // End first: a re-LISTEN waiting on a connect attempt then fails at once.
      await conn.end({ timeout: 1 }).catch(() => {});
      await loop;
    },
  };
}
