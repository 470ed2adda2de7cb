/** `@opentelemetry/api` is imported only under src/otel/, and nothing mod.ts loads reaches it. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "./_harness.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const IMPORT = /(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

function specifiers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
}

test("importing mod.ts loads no OpenTelemetry code (static import graph)", () => {
  const seen = new Set<string>();
  const queue = [join(root, "mod.ts")];
  const external: string[] = [];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec));
      else external.push(spec);
    }
  }
  assert.ok(seen.size > 20, `walked ${seen.size} modules`);
  assert.deepEqual(external.filter((s) => s.includes("opentelemetry")), []);
  assert.deepEqual([...seen].filter((f) => relative(root, f).startsWith(join("src", "otel"))), []);
});

test("only src/otel/ imports @opentelemetry/api", () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith(".ts") && specifiers(path).some((s) => s.includes("@opentelemetry"))) {
        offenders.push(relative(root, path));
      }
    }
  };
  walk(join(root, "src"));
  assert.ok(offenders.length > 0, "the plugin's own files are found");
  assert.deepEqual(offenders.filter((f) => !f.startsWith(join("src", "otel"))), []);
});
