/**
 * Reads `deno doc --lint` output and sorts its diagnostics: a `private-type-ref`
 * whose referenced type is declared outside this repository (zod's `ZodType`,
 * postgres.js's `Sql`, …) cannot be fixed here. deno 2.9 reports those for npm
 * packages installed in node_modules (denoland/deno#27364), so they are counted,
 * not failed; every other diagnostic is a real problem.
 */

/** One diagnostic block of `deno doc --lint`. */
export interface DocDiagnostic {
  /** Rule name, e.g. `missing-jsdoc`. */
  rule: string;
  /** The whole block as printed. */
  text: string;
}

/** The diagnostics of `output`, split into `problems` and references to dependency types. */
export function sortDiagnostics(
  output: string,
  isOwnLine: (lineNumber: number, text: string) => boolean,
): { problems: DocDiagnostic[]; dependencyRefs: DocDiagnostic[] } {
  const problems: DocDiagnostic[] = [];
  const dependencyRefs: DocDiagnostic[] = [];
  const blocks = output.split(/\n(?=error\[)/).filter((b) => b.startsWith("error["));
  for (const raw of blocks) {
    const text = raw.replace(/\n+error: Found \d+ documentation lint errors?\.[\s\S]*$/, "").trim();
    const rule = /^error\[([a-z-]+)\]/.exec(text)![1];
    // "  7 | export interface ZodType<…" on the line before "- this is the referenced type"
    const ref = /\n\s*(\d+) \| (.*)\n\s*\|\s*- this is the referenced type/.exec(text);
    if (rule === "private-type-ref" && ref && !isOwnLine(Number(ref[1]), ref[2].trimEnd())) {
      dependencyRefs.push({ rule, text });
    } else {
      problems.push({ rule, text });
    }
  }
  return { problems, dependencyRefs };
}
