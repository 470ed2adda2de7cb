/**
 * A small HTTP server on the runtime's own: `Deno.serve` or `Bun.serve`,
 * behind one shape. Used by the CLI for health checks and the admin handler.
 *
 * @module
 */
import { detectRuntime } from "./detect.ts";

/** A fetch handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Where to listen. */
export interface ServeOptions {
  /** Port; 0 picks a free one. */
  port: number;
  /** Address to bind. @default {"127.0.0.1"} */
  hostname?: string;
}

/** A listening server. */
export interface HttpServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** The bound address. */
  readonly hostname: string;
  /** Stop listening and close open connections. Idempotent. */
  close(): Promise<void>;
}

interface DenoServer {
  addr: { port: number; hostname: string };
  shutdown(): Promise<void>;
}
interface BunServer {
  port: number;
  hostname: string;
  stop(closeActive?: boolean): Promise<void> | void;
}

/** Start serving `handler`; resolves once the port is bound (rejects when it cannot be). */
export async function serveHttp(handler: FetchHandler, options: ServeOptions): Promise<HttpServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  let closing: Promise<void> | undefined;
  if (detectRuntime().name === "bun") {
    const bun = (globalThis as unknown as {
      Bun: { serve(o: unknown): BunServer };
    }).Bun;
    const server = bun.serve({ port: options.port, hostname, fetch: handler });
    return {
      port: server.port,
      hostname: server.hostname,
      close: () => (closing ??= Promise.resolve(server.stop(true))),
    };
  }
  const ready = Promise.withResolvers<void>();
  const server = Deno.serve({
    port: options.port,
    hostname,
    onListen: () => ready.resolve(),
    onError: () => new Response("internal error", { status: 500 }),
  }, handler) as unknown as DenoServer;
  await ready.promise;
  return {
    port: server.addr.port,
    hostname: server.addr.hostname,
    close: () => (closing ??= server.shutdown()),
  };
}
