import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { parseProbeOutput, probeScript, type ProbeSpec } from "../../src/assertions/probe.js";

const spec = (over: Partial<ProbeSpec> = {}): ProbeSpec => ({
  vantage: "external",
  target: "fwc-net1/n1c1 :8081",
  command: (ms) => `curl -sS -m ${ms / 1000} http://192.0.2.1:8081/cgi-bin/id`,
  expectAnswer: "n1c1",
  expect: "reachable",
  ...over,
});

describe("the probe script, run by this machine's sh", () => {
  it("keeps two batches run at once on one machine apart (VM cells share this machine as their peer)", async () => {
    const failing = (who: string) => spec({ command: () => `sh -c 'sleep 0.3; echo ${who} refused >&2; exit 7'` });
    const run = async (who: string) => {
      const specs = [failing(who)];
      const out = await execa("sh", ["-c", probeScript(specs, 1000)], { reject: false });
      return parseProbeOutput(specs, { exitCode: out.exitCode ?? -1, stdout: out.stdout, stderr: out.stderr, ms: 0 })[0]
        ?.detail;
    };
    expect(await Promise.all([run("first"), run("second")])).toEqual(["first refused", "second refused"]);
  });
});
