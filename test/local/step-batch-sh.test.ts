import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { parseStepBatch, stepBatchScript } from "../../src/contract/step-batch.js";
import { expectEvery } from "../support/quantifiers.js";

const sh = async (script: string) => {
  const run = await execa("sh", ["-c", script], { reject: false, stripFinalNewline: false });
  return { exitCode: run.exitCode ?? -1, stdout: run.stdout, stderr: run.stderr, ms: 0 };
};

describe("a batch of steps in one call (real sh)", () => {
  it("keeps each step's exit code, stdout and stderr apart, byte for byte", async () => {
    const steps = [
      { script: "echo one; echo warn >&2" },
      { script: "printf 'no newline\\n\\n'; exit 4", mayFail: true },
      { script: "printf '%s' 'x@@y'" },
    ];
    const results = parseStepBatch(await sh(stepBatchScript(steps, "a1b2")), "a1b2", steps.length);
    expect(results.map((r) => [r.exitCode, r.stdout, r.stderr])).toEqual([
      [0, "one\n", "warn\n"],
      [4, "no newline\n\n", ""],
      [0, "x@@y", ""],
    ]);
    expectEvery(results, (r) => r.startedAtMs > 1_700_000_000_000 && r.ms >= 0);
  });

  it("reads the last step even when the transport trimmed the final newline (as ssh output may be)", async () => {
    const out = await sh(stepBatchScript([{ script: "echo a" }, { script: "echo b" }], "e5"));
    const results = parseStepBatch({ ...out, stdout: out.stdout.replace(/\n+$/, "") }, "e5", 2);
    expect(results.map((r) => [r.exitCode, r.stdout])).toEqual([
      [0, "a\n"],
      [0, "b\n"],
    ]);
  });

  it("stops after the first failing step that may not fail", async () => {
    const steps = [{ script: "false" }, { script: "echo never" }];
    const results = parseStepBatch(await sh(stepBatchScript(steps, "c3")), "c3", 2);
    expect(results.map((r) => r.exitCode)).toEqual([1]);
  });
});
