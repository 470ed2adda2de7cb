/**
 * One test API for both runtimes: `Deno.test` under Deno, `bun:test` under
 * Bun. Test files import `test` from here and run unchanged under
 * `deno test` and `bun test`.
 */

/** A test body. */
export type TestFn = () => void | Promise<void>;

/** Per-test options. */
export interface TestOptions {
  /** Skip this test. */
  ignore?: boolean;
  /** Milliseconds before the test fails (Bun only; Deno has no per-test timeout). */
  timeout?: number;
}

const DEFAULT_TIMEOUT = 120_000;

type BunTest = (
  name: string,
  fn: TestFn,
  options?: number | { timeout?: number },
) => void;
type BunTestModule = { test: BunTest & { skip: BunTest } };

const g = globalThis as Record<string, unknown>;
const isBun = typeof g.Bun === "object";
// A computed specifier keeps `deno check` from resolving the Bun-only module.
const bunTestSpecifier = "bun:" + "test";
const bunTest: BunTestModule | undefined = isBun
  ? await import(bunTestSpecifier) as BunTestModule
  : undefined;

/** Register a test. */
export function test(name: string, fn: TestFn, options: TestOptions = {}): void {
  if (bunTest) {
    if (options.ignore) bunTest.test.skip(name, fn);
    else {
      bunTest.test(name, fn, { timeout: options.timeout ?? DEFAULT_TIMEOUT });
    }
    return;
  }
  Deno.test({
    name,
    fn,
    ignore: options.ignore,
    // Pools and LISTEN connections outlive a single test by design; each test closes what it opens.
    sanitizeOps: false,
    sanitizeResources: false,
  });
}

/** Which runtime runs the tests. */
export const runtimeName: "deno" | "bun" = isBun ? "bun" : "deno";
