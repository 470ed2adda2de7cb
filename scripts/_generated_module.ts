// deno-lint-ignore-file no-console
/**
 * Shared by the scripts that write generated TypeScript modules (build_migrations.ts,
 * build_ui.ts): text as a template literal, formatting with `deno fmt`, and the write or
 * `--check` step that CI runs to catch a stale module.
 */

/** Exits with a message naming the script. */
export function fail(script: string, message: string): never {
  console.error(`${script}: ${message}`);
  Deno.exit(1);
}

/** `text` as a TypeScript template literal that evaluates to exactly `text`. */
export function templateLiteral(text: string): string {
  return "`" + text.replaceAll("\\", "\\\\").replaceAll("`", "\\`").replaceAll("${", "\\${") + "`";
}

/** `code` formatted by `deno fmt` with the repository's settings (run from `root`). */
export async function formatTs(script: string, root: URL, code: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=ts", "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const { code: exit, stdout, stderr } = await child.output();
  if (exit !== 0) fail(script, `deno fmt failed: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

/**
 * Writes `generated` to `output` when it differs; with `check`, exits 1 instead when the file
 * on disk is stale (`staleHint` says what to run). `note` is appended to the message.
 */
export async function writeOrCheck(o: {
  script: string;
  output: URL;
  outputRel: string;
  generated: string;
  check: boolean;
  staleHint: string;
  note?: string;
}): Promise<void> {
  let current: string | null = null;
  try {
    current = await Deno.readTextFile(o.output);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const note = o.note ? ` (${o.note})` : "";
  if (o.check) {
    if (current !== o.generated) fail(o.script, `${o.outputRel} is stale. ${o.staleHint}`);
    console.log(`${o.outputRel} is up to date${note}.`);
  } else if (current === o.generated) {
    console.log(`${o.outputRel} unchanged${note}.`);
  } else {
    await Deno.writeTextFile(o.output, o.generated);
    console.log(`Wrote ${o.outputRel}${note}.`);
  }
}
