/**
 * This package's version, written to worker registrations. Must equal
 * `version` in deno.json (checked by scripts/check_deps.ts in CI).
 */
export const SPOOL_VERSION = "0.1.0";
