import assert from "node:assert/strict";
import process from "node:process";
import { test } from "./_harness.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { systemClock } from "../src/runtime/clock.ts";
import { Channel } from "../src/internal/channel.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";

test("detectRuntime names the runtime running the tests", () => {
  const rt = detectRuntime();
  const expected = typeof (globalThis as Record<string, unknown>).Bun === "object" ? "bun" : "deno";
  assert.equal(rt.name, expected);
  assert.equal(detectRuntime(), rt, "cached");
  assert.equal(rt.pid(), process.pid);
  assert.ok(rt.hostname().length > 0);
  assert.ok(rt.version.length > 0);
});

test("runtime env reads variables and reports unset ones as undefined", () => {
  const rt = detectRuntime();
  assert.equal(rt.env("SPOOL_SURELY_UNSET_VARIABLE_123"), undefined);
  assert.equal(rt.env("PATH"), process.env.PATH);
});

test("runtime spawn runs a child, passes env and stdin, collects output", async () => {
  const rt = detectRuntime();
  const child = rt.spawn("sh", ["-c", 'printf "%s:" "$SPOOL_X"; cat; echo err >&2; exit 3'], {
    env: { SPOOL_X: "hello" },
    stdin: "from-stdin",
  });
  assert.ok(child.pid > 0);
  const status = await child.status;
  assert.equal(status.code, 3);
  assert.equal(status.stdout, "hello:from-stdin");
  assert.equal(status.stderr.trim(), "err");
});

test("runtime spawn kill sends a signal the child sees", async () => {
  const rt = detectRuntime();
  const child = rt.spawn("sh", [
    "-c",
    "trap 'echo got-term; exit 7' TERM; while true; do sleep 0.05; done",
  ]);
  await new Promise((r) => setTimeout(r, 200));
  child.kill("SIGTERM");
  const status = await child.status;
  assert.equal(status.code, 7);
  assert.equal(status.stdout.trim(), "got-term");
});

test("runtime onSignal handler fires on a real SIGTERM and can be removed", async () => {
  const rt = detectRuntime();
  let count = 0;
  const remove = rt.onSignal("SIGTERM", () => count++);
  process.kill(process.pid, "SIGTERM");
  for (let i = 0; i < 50 && count === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(count, 1);
  remove();
  // A second handler keeps the process alive while we check the first was removed.
  let other = 0;
  const removeOther = rt.onSignal("SIGTERM", () => other++);
  process.kill(process.pid, "SIGTERM");
  for (let i = 0; i < 50 && other === 0; i++) await new Promise((r) => setTimeout(r, 10));
  removeOther();
  assert.equal(other, 1);
  assert.equal(count, 1, "removed handler did not fire again");
});

test("systemClock.sleep resolves after the delay, or early on abort", async () => {
  const t0 = Date.now();
  await systemClock.sleep(30);
  assert.ok(Date.now() - t0 >= 25);
  const ac = new AbortController();
  const t1 = Date.now();
  const p = systemClock.sleep(10_000, ac.signal);
  ac.abort();
  await p;
  assert.ok(Date.now() - t1 < 1000);
  let fired = false;
  const cancel = systemClock.setTimeout(() => (fired = true), 10);
  cancel();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(fired, false);
});

test("FakeClock fires timers in time order only when ticked", async () => {
  const clock = new FakeClock(1_000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push("b"), 200);
  clock.setTimeout(() => fired.push("a"), 100);
  const cancel = clock.setTimeout(() => fired.push("never"), 150);
  cancel();
  await clock.tick(99);
  assert.deepEqual(fired, []);
  await clock.tick(1);
  assert.deepEqual(fired, ["a"]);
  assert.equal(clock.now(), 1_100);
  await clock.tick(500);
  assert.deepEqual(fired, ["a", "b"]);
  assert.equal(clock.now(), 1_600);
  clock.jump(-60_000);
  assert.equal(clock.now(), -58_400);
  const ac = new AbortController();
  const p = clock.sleep(1_000, ac.signal);
  ac.abort();
  await p;
  assert.equal(clock.pendingTimers, 0);
});

test("Channel hands items to waiting receivers first, then queues, and closes", async () => {
  const ch = new Channel<number>();
  const waiting = ch.receive();
  assert.equal(ch.send(1), true);
  assert.equal(await waiting, 1);
  ch.send(2);
  ch.send(3);
  assert.equal(ch.size, 2);
  assert.equal(ch.tryReceive(), 2);
  assert.equal(await ch.receive(), 3);
  assert.equal(ch.tryReceive(), undefined);
  ch.send(4);
  ch.send(5);
  assert.deepEqual(ch.drain(), [4, 5]);
  const pending = ch.receive();
  ch.close();
  assert.equal(await pending, undefined);
  assert.equal(ch.send(6), false);
  assert.equal(ch.closed, true);
});

test("Channel keeps FIFO order over many items", async () => {
  const ch = new Channel<number>();
  for (let i = 0; i < 5000; i++) ch.send(i);
  for (let i = 0; i < 5000; i++) assert.equal(await ch.receive(), i);
  assert.equal(ch.size, 0);
});
