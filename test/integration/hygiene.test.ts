import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { labelledContainers, leftovers, runCli, startRun, waitFor } from "../support/cli.js";

// A one-cell run that stays busy long enough to be interrupted while its host is up.
const SMALL = ["run", "--matrix", "test/fixtures/matrices/integration.yaml", "--filter", "iptables=1.8.11", "--filter", "scenario=curl-timeout"];

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
    expect(clean.stderr).toMatch(new RegExp(`removed ${left.containers} containers, ${left.networks} networks`));
    expect(await leftovers(runId)).toEqual(NONE);
  }, 400_000);
});

describe("the machine's own firewall", () => {
  // Counters and the generator's comment lines change by themselves; the rules must not.
  const saved = async (tool: "iptables-save" | "ip6tables-save") =>
    (await execa(tool)).stdout
      .split("\n")
      .filter((line) => !line.startsWith("#"))
      .map((line) => line.replace(/\[\d+:\d+\]/g, "[counters]"))
      .join("\n");
  const machineRules = () => saved("iptables-save");
  const machineRules6 = () => saved("ip6tables-save");
  // nft list ruleset shows every table, also those iptables-save never prints; counters masked too
  const machineRuleset = async () => {
    const nft = await execa("nft", ["list", "ruleset"], { reject: false });
    if (nft.exitCode !== 0) throw new Error(`nft list ruleset failed (${nft.stderr || nft.message}); install nftables (scripts/setup.sh does)`);
    return nft.stdout.replace(/counter packets \d+ bytes \d+/g, "counter");
  };

  it("is identical before and after a run that flushes every table inside its hosts", async () => {
    const [before6, beforeRuleset] = [await machineRules6(), await machineRuleset()];
    expect(beforeRuleset, "the machine's nftables ruleset (the engine's own rules at least)").toMatch(/table ip (filter|nat)/);
    const before = await machineRules();
    const run = await runCli(
      ["run", "--matrix", "test/fixtures/matrices/flush-all.yaml", "--out", "/tmp/fwcompat-firewall-test"],
      { timeoutMs: 20 * 60_000 },
    );
    expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);
    expect(await machineRules()).toBe(before);
    expect(await machineRules6()).toBe(before6);
    expect(await machineRuleset()).toBe(beforeRuleset);
  }, 1_300_000);
});
