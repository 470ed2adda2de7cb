// deno-lint-ignore-file no-console
/**
 * `deno doc --lint` over every entry point in deno.json "exports" (so new subpaths are
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

let failed = 0;
for (const [name, entry] of Object.entries(exports)) {
  const run = new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", entry],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  const output = new TextDecoder().decode(run.stderr);
  const { problems, dependencyRefs } = sortDiagnostics(output, isOwnLine);
  if (!run.success && problems.length === 0 && dependencyRefs.length === 0) {
    console.log(`${name} (${entry}): deno doc failed\n${output}`);
    failed++;
    continue;
  }
  const ignored = dependencyRefs.length
    ? ` (${dependencyRefs.length} references to dependency types)`
    : "";
  if (problems.length === 0) console.log(`${name} (${entry}): ok${ignored}`);
  else {
    failed++;
    console.log(`${name} (${entry}): ${problems.length} problem(s)${ignored}`);
    for (const p of problems) console.log(`\n${p.text}`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
