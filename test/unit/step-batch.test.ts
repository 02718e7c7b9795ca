import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { parseStepBatch, splitStepBatch, stepBatchScript } from "../../src/contract/step-batch.js";
import { runSteps, EngineRefusal, type Step } from "../../src/harness/host-ops.js";
import { FakeHost } from "../support/fake-host.js";

const sh = async (script: string) => {
  const run = await execa("sh", ["-c", script], { reject: false, stripFinalNewline: false });
  return { exitCode: run.exitCode ?? -1, stdout: run.stdout, stderr: run.stderr, ms: 0 };
};

describe("a batch of steps in one call (real sh)", () => {
  it("keeps each step's exit code, stdout and stderr apart, byte for byte", async () => {
    const steps = [{ script: "echo one; echo warn >&2" }, { script: "printf 'no newline\\n\\n'; exit 4", mayFail: true }, { script: "printf '%s' 'x@@y'" }];
    const results = parseStepBatch(await sh(stepBatchScript(steps, "a1b2")), "a1b2", steps.length);
    expect(results.map((r) => [r.exitCode, r.stdout, r.stderr])).toEqual([
      [0, "one\n", "warn\n"],
      [4, "no newline\n\n", ""],
      [0, "x@@y", ""],
    ]);
    expect(results.every((r) => r.startedAtMs > 1_700_000_000_000 && r.ms >= 0)).toBe(true);
  });

  it("reads the last step even when the transport trimmed the final newline (as ssh output may be)", async () => {
    const out = await sh(stepBatchScript([{ script: "echo a" }, { script: "echo b" }], "e5"));
    const results = parseStepBatch({ ...out, stdout: out.stdout.replace(/\n+$/, "") }, "e5", 2);
    expect(results.map((r) => [r.exitCode, r.stdout])).toEqual([[0, "a\n"], [0, "b\n"]]);
  });

  it("stops after the first failing step that may not fail", async () => {
    const steps = [{ script: "false" }, { script: "echo never" }];
    const results = parseStepBatch(await sh(stepBatchScript(steps, "c3")), "c3", 2);
    expect(results.map((r) => r.exitCode)).toEqual([1]);
  });

  it("reads its own script back (what stand-in hosts answer step by step)", () => {
    const steps = [{ script: "echo a\necho b" }, { script: "cat /x", mayFail: true }];
    expect(splitStepBatch(stepBatchScript(steps, "d4"))).toEqual({ nonce: "d4", steps });
    expect(splitStepBatch("echo plain")).toBeUndefined();
  });
});

describe("runSteps judges each step by its policy", () => {
  const host = (rules: ConstructorParameters<typeof FakeHost>[3]) => new FakeHost("h", "192.0.2.9", { image: "i", label: "l" }, rules, {});

  it("records every step that ran, and throws the failing must-step's error", async () => {
    const steps: Step[] = [];
    const h = host([{ match: /^select/, answer: { stdout: "ok\n" } }, { match: /^write/, answer: { exitCode: 2, stderr: "disk full" } }]);
    await expect(runSteps(h, steps, [{ name: "select", script: "select x" }, { name: "write", script: "write y" }, { name: "start", script: "start z" }])).rejects.toThrow(
      "write failed (exit 2): disk full",
    );
    expect(steps.map((s) => [s.name, s.exitCode])).toEqual([["select", 0], ["write", 2]]);
    expect(h.commands).toEqual(["select x", "write y"]);
  });

  it("turns dockerd's own refusal into an EngineRefusal, and lets observed steps fail", async () => {
    const steps: Step[] = [];
    const h = host([
      { match: /^cat/, answer: { exitCode: 1 } },
      { match: /^start/, answer: { exitCode: 1, stderr: 'level=fatal msg="failed to start daemon: bad bip"' } },
    ]);
    const run = runSteps(h, steps, [{ name: "read", script: "cat /nope", policy: "observe", record: false }, { name: "start dockerd", script: "start", policy: "engine" }]);
    await expect(run).rejects.toBeInstanceOf(EngineRefusal);
    expect(steps.map((s) => s.name)).toEqual(["start dockerd"]);
  });
});
