import { describe, expect, it } from "vitest";
import { splitStepBatch, stepBatchScript } from "../../src/contract/step-batch.js";
import { runSteps, EngineRefusal, type Step } from "../../src/harness/host-ops.js";
import { FakeHost } from "../support/fake-host.js";

describe("a batch of steps read back", () => {
  it("reads its own script back (what stand-in hosts answer step by step)", () => {
    const steps = [{ script: "echo a\necho b" }, { script: "cat /x", mayFail: true }];
    expect(splitStepBatch(stepBatchScript(steps, "d4"))).toEqual({ nonce: "d4", steps });
    expect(splitStepBatch("echo plain")).toBeUndefined();
  });
});

describe("runSteps judges each step by its policy", () => {
  const host = (rules: ConstructorParameters<typeof FakeHost>[3]) =>
    new FakeHost("h", "192.0.2.9", { image: "i", label: "l" }, rules, {});

  it("records every step that ran, and throws the failing must-step's error", async () => {
    const steps: Step[] = [];
    const h = host([
      { match: /^select/, answer: { stdout: "ok\n" } },
      { match: /^write/, answer: { exitCode: 2, stderr: "disk full" } },
    ]);
    await expect(
      runSteps(h, steps, [
        { name: "select", script: "select x" },
        { name: "write", script: "write y" },
        { name: "start", script: "start z" },
      ]),
    ).rejects.toThrow("write failed (exit 2): disk full");
    expect(steps.map((s) => [s.name, s.exitCode])).toEqual([
      ["select", 0],
      ["write", 2],
    ]);
    expect(h.commands).toEqual(["select x", "write y"]);
  });

  it("turns dockerd's own refusal into an EngineRefusal, and lets observed steps fail", async () => {
    const steps: Step[] = [];
    const h = host([
      { match: /^cat/, answer: { exitCode: 1 } },
      { match: /^start/, answer: { exitCode: 1, stderr: 'level=fatal msg="failed to start daemon: bad bip"' } },
    ]);
    const run = runSteps(h, steps, [
      { name: "read", script: "cat /nope", policy: "observe", record: false },
      { name: "start dockerd", script: "start", policy: "engine" },
    ]);
    await expect(run).rejects.toBeInstanceOf(EngineRefusal);
    expect(steps.map((s) => s.name)).toEqual(["start dockerd"]);
  });
});
