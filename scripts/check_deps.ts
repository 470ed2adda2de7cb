// deno-lint-ignore-file no-console
/** Checks that deno.json's npm pins and package.json's versions are the same list. */
import { readFileSync } from "node:fs";
import process from "node:process";

const deno = JSON.parse(readFileSync("deno.json", "utf8")) as { imports: Record<string, string> };
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const fromPkg: Record<string, string> = { ...pkg.dependencies, ...pkg.devDependencies };
const problems: string[] = [];
const seen = new Set<string>();
for (const [name, spec] of Object.entries(deno.imports)) {
  const m = /^npm:(@?[^@]+)@(.+)$/.exec(spec);
  if (!m) continue;
  seen.add(m[1]);
  if (m[1] !== name) problems.push(`deno.json maps "${name}" to a different package ${m[1]}`);
  if (fromPkg[m[1]] !== m[2]) {
    problems.push(
      `${m[1]}: deno.json pins ${m[2]}, package.json has ${fromPkg[m[1]] ?? "nothing"}`,
    );
  }
}
for (const name of Object.keys(fromPkg)) {
  if (!seen.has(name)) problems.push(`${name} is in package.json but not in deno.json imports`);
}
const version = /SPOOL_VERSION = "([^"]+)"/.exec(readFileSync("src/version.ts", "utf8"))?.[1];
const denoVersion = (deno as unknown as { version: string }).version;
if (version !== denoVersion) {
  problems.push(`src/version.ts says ${version}, deno.json says ${denoVersion}`);
}
if (problems.length > 0) {
  console.error("Dependency pins differ:\n  " + problems.join("\n  "));
  process.exit(1);
}
console.log(`dependency pins agree (${seen.size} packages)`);
