/**
 * The files in examples/deploy/ stay true: every environment variable they
 * set is one the CLI reads, their command lines parse, their probes name the
 * health paths, and the example tasks module runs a job with the example
 * environment (database and schema pointed at the test server).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "./_harness.ts";
import { setupDb } from "./fixtures/worker_helpers.ts";
import { spool } from "./fixtures/cli_helpers.ts";
import { COMMANDS } from "../src/cli/main.ts";
import { allFlags } from "../src/cli/command.ts";
import { parseFlags } from "../src/cli/args.ts";

const dir = new URL("../examples/deploy/", import.meta.url);
const read = (name: string) => readFile(new URL(name, dir), "utf8");
const runCommand = COMMANDS.find((c) => c.name === "run")!;
const knownEnv = new Set(
  COMMANDS.flatMap((c) => Object.values(allFlags(c)).map((f) => f.env).filter(Boolean)),
);

function envOf(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars.set(m[1], m[2]);
  }
  return vars;
}

test("deploy examples: every variable is one the CLI reads; command lines parse; probes hit the health paths", async () => {
  const env = envOf(await read("spool.env"));
  const k8s = await read("kubernetes.yaml");
  const docker = await read("Dockerfile");
  const names = [
    ...env.keys(),
    ...[...k8s.matchAll(/name: ([A-Z_]+)/g)].map((m) => m[1]),
    ...[...docker.matchAll(/\b(SPOOL_[A-Z_]+)=/g)].map((m) => m[1]),
  ];
  assert.ok(names.length >= 8, names.join());
  for (const name of names) assert.ok(knownEnv.has(name), `${name} is read by the CLI`);

  const unit = await read("spool.service");
  const exec = /^ExecStart=\S+ run (.*)$/m.exec(unit)?.[1];
  assert.ok(exec, "the unit runs `spool run`");
  parseFlags(exec.split(/\s+/), allFlags(runCommand));
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(docker)![1]) as string[];
  assert.deepEqual(cmd.slice(-2), ["jsr:@spool/worker/cli", "run"]);
  assert.match(docker, /^FROM denoland\/deno:/m);

  assert.deepEqual([...k8s.matchAll(/path: (\/\w+)/g)].map((m) => m[1]), ["/healthz", "/readyz"]);
  const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(k8s)![1]);
  assert.ok(grace > 30, "the pod waits longer than the grace period it sets");
});

test("deploy examples: the example tasks module runs a job with the example environment", async () => {
  const db = await setupDb("deploy_examples");
  try {
    await db.addJob("send_email", { to: "ada@example.com", subject: "Hello" });
    const env = Object.fromEntries(envOf(await read("spool.env")));
    delete env.DATABASE_URL; // the test server instead of db.internal
    const r = await spool(["run", "--once", "--tasks", "examples/deploy/tasks.ts"], {
      env: { ...env, SPOOL_SCHEMA: db.schema, SPOOL_TASKS: "", SPOOL_HEALTH_PORT: "0" },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /would send "Hello" to ada@example.com/);
    assert.equal((await db.jobs()).length, 0);
  } finally {
    await db.close();
  }
});
