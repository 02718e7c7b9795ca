import { describe, expect, it } from "vitest";
import { labelledContainers, leftovers, runCli, startRun, waitFor } from "../support/cli.js";
import { machineFirewall } from "../support/machine-firewall.js";
import { scratchDir } from "../support/scratch.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";

// A one-cell run that stays busy long enough to be interrupted while its host is up.
const SMALL = [
  "run",
  "--matrix",
  "test/fixtures/matrices/integration.yaml",
  "--filter",
  "iptables=1.8.11",
  "--filter",
  "scenario=curl-timeout",
];

async function interruptMidRun(signal: "SIGINT" | "SIGTERM" | "SIGKILL") {
  const run = startRun(SMALL);
  const runId = await run.runId;
  await waitFor(async () => (await labelledContainers(runId)) >= 2, 300_000, "the run's first host");
  run.child.kill(signal);
  const result = await run.child;
  return { runId, result, output: run.output() };
}

const NONE = { containers: 0, networks: 0, volumes: 0 };

describe("no leaks on any exit path", () => {
  it("SIGINT mid-run: exit 130 and nothing of the run remains", async () => {
    const { runId, result, output } = await interruptMidRun("SIGINT");
    expect(result.exitCode, output).toBe(130);
    expect(await leftovers(runId)).toEqual(NONE);
  }, 400_000);

  it("SIGTERM mid-run: exit 143 and nothing of the run remains", async () => {
    const { runId, result, output } = await interruptMidRun("SIGTERM");
    expect(result.exitCode, output).toBe(143);
    expect(await leftovers(runId)).toEqual(NONE);
  }, 400_000);

  it("SIGKILL mid-run leaves hosts behind; `fwcompat clean` sweeps them", async () => {
    const { runId, result } = await interruptMidRun("SIGKILL");
    expect(result.signal).toBe("SIGKILL");
    const left = await leftovers(runId);
    expect(left.containers).toBeGreaterThan(0);
    const clean = await runCli(["clean"], { timeoutMs: 60_000 });
    expect(clean.exitCode, clean.stderr).toBe(0);
    // a removal the run asked for just before the kill is finished by the engine on its own, maybe
    // after the count (measured: 4 counted, 3 left to clean): clean removes what is still there
    const removed = /removed (\d+) containers, (\d+) networks/.exec(clean.stderr);
    expect(Number(removed?.[1])).toBeGreaterThan(0);
    expect(Number(removed?.[1])).toBeLessThanOrEqual(left.containers);
    expect(Number(removed?.[2])).toBe(left.networks);
    expect(await leftovers(runId)).toEqual(NONE);
  }, 400_000);
});

describe("the machine's own firewall", () => {
  it(
    "is identical before and after a run that flushes every table inside its hosts",
    async () => {
      const before = await machineFirewall();
      expect(before.nftables, "the machine's nftables ruleset (the engine's own rules at least)").toMatch(
        /table ip (filter|nat)/,
      );
      const run = await runCli(
        [
          "run",
          "--matrix",
          "test/fixtures/matrices/flush-all.yaml",
          "--out",
          await scratchDir("fwcompat-firewall-test-"),
        ],
        { timeoutMs: WARM_RUN_MS },
      );
      expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);
      const after = await machineFirewall();
      expect(after.iptables).toBe(before.iptables);
      expect(after.ip6tables).toBe(before.ip6tables);
      expect(after.nftables).toBe(before.nftables);
    },
    WARM_RUN_TEST_MS,
  );
});
