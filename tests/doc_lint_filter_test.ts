/**
 * The CI doc-lint step fails on our own undocumented or unexported types and only
 * counts references to types declared in dependencies (denoland/deno#27364).
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { sortDiagnostics } from "../scripts/_doc_lint_filter.ts";

const block = (rule: string, title: string, refLine?: [number, string]) =>
  `error[${rule}]: ${title}
  --> /repo/src/x.ts:12:1
   | 
12 | export interface DefineTaskOptions<S extends z.ZodType> {
   | ^
   = hint: make the referenced type public or remove the reference
   | ${refLine ? `\n ${refLine[0]} | ${refLine[1]}\n   | - this is the referenced type\n   | ` : ""}

  info: to ensure documentation is complete all types that are exposed in the public API must be public
`;

test("doc lint filter: dependency type references are counted, every other diagnostic fails", () => {
  const output = [
    block("private-type-ref", "public type 'A' references private type 'ZodType'", [
      7,
      "export interface ZodType<out Output = unknown> {",
    ]),
    block("private-type-ref", "public type 'B' references private type 'LocalQueueOptions'", [
      48,
      "export interface LocalQueueOptions {",
    ]),
    block("missing-jsdoc", "exported symbol is missing JSDoc documentation"),
    "error: Found 3 documentation lint errors.\n",
  ].join("\n");
  const own = new Map([[48, "export interface LocalQueueOptions {"]]);
  const { problems, dependencyRefs } = sortDiagnostics(output, (n, text) => own.get(n) === text);
  assert.deepEqual(dependencyRefs.map((d) => /private type '(\w+)'/.exec(d.text)![1]), ["ZodType"]);
  assert.deepEqual(problems.map((p) => p.rule), ["private-type-ref", "missing-jsdoc"]);
  assert.match(problems[0].text, /LocalQueueOptions/);
  assert.doesNotMatch(problems[1].text, /Found 3/);
  assert.deepEqual(sortDiagnostics("", () => true), { problems: [], dependencyRefs: [] });
});
