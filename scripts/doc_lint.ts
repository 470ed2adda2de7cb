// deno-lint-ignore-file no-console
/**
 * `deno doc --lint` on each entry point in deno.json "exports" alone (so new subpaths are
 * covered without editing this file). Fails on any diagnostic except references to types
 * declared in dependencies (see _doc_lint_filter.ts). Run with `deno run -A scripts/doc_lint.ts`.
 */
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import process from "node:process";
import { sortDiagnostics } from "./_doc_lint_filter.ts";

const exports =
  (JSON.parse(readFileSync("deno.json", "utf8")) as { exports: Record<string, string> })
    .exports;
const ownFiles = execFileSync("git", ["ls-files", "*.ts"], { encoding: "utf8" }).split("\n")
  .filter((f) => f !== "")
  .map((f) => readFileSync(f, "utf8").split("\n"));
const isOwnLine = (n: number, text: string) =>
  ownFiles.some((lines) => lines[n - 1]?.trimEnd() === text);

// Each entry alone, as a user importing only that subpath reads it: every type its public
// symbols name must be exported by that entry too.
const entries = Object.values(exports);
let failed = false;
for (const entry of entries) {
  const run = new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", entry],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  // Colour codes can appear even with NO_COLOR (FORCE_COLOR in the environment wins): strip them.
  // deno-lint-ignore no-control-regex
  const output = new TextDecoder().decode(run.stderr).replace(/\x1b\[[0-9;]*m/g, "");
  const { problems, dependencyRefs } = sortDiagnostics(output, isOwnLine);
  const ignored = dependencyRefs.length
    ? ` (${dependencyRefs.length} references to dependency types)`
    : "";
  if (!run.success && problems.length === 0 && dependencyRefs.length === 0) {
    console.log(`${entry}: deno doc failed\n${output}`);
    failed = true;
  } else if (problems.length === 0) {
    console.log(`${entry}: ok${ignored}`);
  } else {
    failed = true;
    console.log(`${entry}: ${problems.length} problem(s)${ignored}`);
    for (const p of problems) console.log(`\n${p.text}`);
  }
}
process.exitCode = failed ? 1 : 0;
