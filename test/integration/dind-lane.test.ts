import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import type { CellResult } from "../../src/results/schema.js";
import { labelledContainers, runCli } from "../support/cli.js";
import { readCells } from "../support/results.js";
import { scratchDir } from "../support/scratch.js";
import { expectEvery } from "../support/quantifiers.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";

// Real engines, real iptables binaries, real traffic: one matrix run shared by the assertions below.
const cells = new Map<string, CellResult>();
let runId = "";
let exitCode: number | undefined;
let output = "";

const cell = (prefix: string): CellResult => {
  const found = [...cells.values()].find((c) => c.cell.id.startsWith(prefix));
  if (!found)
    throw new Error(`no cell ${prefix}; have ${[...cells.keys()].join(", ")}; run output:\n${output.slice(-3000)}`);
  return found;
};

beforeAll(async () => {
  const out = await scratchDir("fwcompat-it-");
  const run = await runCli(["run", "--matrix", "test/fixtures/matrices/integration.yaml", "--out", out], {
    timeoutMs: WARM_RUN_MS,
  });
  exitCode = run.exitCode;
  output = `${run.stderr}\n${run.stdout}`;
  for (const result of await readCells(out)) cells.set(result.cell.id, result);
  runId = JSON.parse(await readFile(join(out, "run.json"), "utf8")).runId;
}, WARM_RUN_TEST_MS);

describe("dind lane on real engines", () => {
  it("finishes with exit 0, a result per cell, and nothing of the run left on the engine", async () => {
    expect(exitCode, output.slice(-2000)).toBe(0);
    expect(cells.size).toBe(3);
    expect(await labelledContainers(runId)).toBe(0);
    const networks = await execa("docker", ["network", "ls", "-q", "--filter", `label=io.fwcompat.run=${runId}`]);
    expect(networks.stdout.trim()).toBe("");
  });

  it("(a) the -C self-probe tells upstream 1.8.11 from Debian 1.8.11-2", () => {
    const buggy = cell("curl-timeout__dind__docker-28.5.2__1.8.11-nft").baseline?.evidence;
    const fixed = cell("curl-timeout__dind__docker-28.5.2__1.8.11-2-nft").baseline?.evidence;
    expect(buggy?.iptablesVersion).toBe("iptables v1.8.11 (nf_tables)");
    expect(buggy?.iptablesPackage).toMatch(/^upstream tarball iptables-1\.8\.11\.tar\.xz sha256 d87303d5/);
    expect(buggy?.checkProbe).toBe("buggy");
    expect(fixed?.iptablesVersion).toBe("iptables v1.8.11 (nf_tables)");
    expect(fixed?.iptablesPackage).toMatch(/^iptables 1\.8\.11-2 \(Debian trixie\)/);
    expect(fixed?.checkProbe).toBe("correct");
    expect(buggy?.dockerdVersion).toMatch(/^Docker version 28\.5\.2/);
    expect(buggy?.ipForward).toEqual({ atStart: 0, afterDockerd: 1 });
  });

  it("(b) curl-timeout reproduces with 1.8.11 + userland-proxy off + 3 bridges, per vantage", () => {
    const result = cell("curl-timeout__dind__docker-28.5.2__1.8.11-nft");
    expect(result.status).toBe("reproduced");
    const probes = result.baseline?.probes ?? [];
    const at = (vantage: string, network: string) =>
      probes.find((p) => p.vantage === vantage && p.target.startsWith(`${network}/`));
    for (const network of ["fwc-net2", "fwc-net3"]) {
      expect(at("external", network)?.outcome).toBe("timeout");
      expect(at("localhost", network)?.outcome).toBe("timeout");
      expect(at("host-ip", network)?.outcome).toBe("ok");
    }
    // four cross-network pairs (default bridge and three networks in a ring): the check below must not pass on none
    expect(probes.filter((p) => p.vantage === "cross-network")).toHaveLength(4);
    expectEvery(
      probes.filter((p) => p.vantage === "cross-network"),
      (p) => p.pass,
    );
    expect(result.baseline?.missingRules.some((r) => r.startsWith("filter DOCKER-BRIDGE -o br-"))).toBe(true);
  });

  it("(b) ... and not with Debian 1.8.11-2: every probe as expected, no rule missing", () => {
    const result = cell("curl-timeout__dind__docker-28.5.2__1.8.11-2-nft");
    expect(result.status).toBe("works");
    expect(result.baseline?.probes.length).toBe(16);
    expectEvery(result.baseline?.probes, (p) => p.pass);
    expect(result.baseline?.missingRules).toEqual([]);
  });

  it("the call trace names the checks that lied and the rules they cost (upstream 1.8.11), and none on 1.8.11-2", () => {
    const buggy = cell("curl-timeout__dind__docker-28.5.2__1.8.11-nft");
    const trace = buggy.baseline?.trace;
    expect(trace?.falsePositives.length).toBeGreaterThan(0);
    const skipped = trace?.skippedRules.map((s) => s.rule) ?? [];
    for (const net of ["fwc-net2", "fwc-net3"])
      expect(skipped).toContain(`filter DOCKER-BRIDGE -o br-{${net}} -j DOCKER`);
    expectEvery(trace?.skippedRules, (s) => s.confirmedMissing);
    expect(buggy.explanation).toMatch(
      /iptables -C check\(s\) answered "exists" for rules that were not there → skipped: DOCKER-BRIDGE -o br-\{fwc-net/,
    );
    const upgrade = buggy.fixes.find((f) => f.verdict.fix === "iptables-upgrade")?.verdict;
    expect(upgrade?.restoredRules).toContain("filter DOCKER-BRIDGE -o br-{fwc-net2} -j DOCKER");
    expect(buggy.fixes.find((f) => f.verdict.fix === "userland-proxy-on")?.verdict.restoredRules).toEqual([]);
    const fixed = cell("curl-timeout__dind__docker-28.5.2__1.8.11-2-nft").baseline?.trace;
    expect(fixed?.dockerdCalls).toBeGreaterThan(100);
    expect(fixed?.falsePositives).toEqual([]);
    expect(fixed?.skippedRules).toEqual([]);
  });

  it("the flush scenario's trace shows the failing call, its error and the step that caused it", () => {
    const failed = cell("flush-then-run+filter__dind__docker-28.5.2__1.8.11-2-nft").baseline?.trace?.failedCalls ?? [];
    const duringRun = failed.find((f) => f.step?.startsWith("after flush: docker run -p"));
    expect(duringRun?.stderr).toMatch(/No chain\/target\/match by that name/);
    expect(duringRun?.call).toMatch(/-t filter -[AI] DOCKER /);
  });

  it("fixes are judged by traffic: upgrading repairs, userland-proxy on repairs only loopback", () => {
    const verdicts = Object.fromEntries(
      cell("curl-timeout__dind__docker-28.5.2__1.8.11-nft").fixes.map((f) => [f.verdict.fix, f.verdict]),
    );
    expect(verdicts["iptables-upgrade"]?.overall).toBe("repaired");
    expect(verdicts["userland-proxy-on"]?.vantages).toMatchObject({ localhost: "repaired", external: "still-broken" });
  });

  it("(c) flush-then-run reproduces with the exact error text", () => {
    const result = cell("flush-then-run+filter__dind__docker-28.5.2__1.8.11-2-nft");
    expect(result.status).toBe("reproduced");
    const run = result.baseline?.steps.find((s) => s.name.startsWith("after flush: docker run -p"));
    expect(run, "the step of the user's docker run -p").toBeDefined();
    expect(run?.exitCode).not.toBe(0);
    const error = result.baseline?.errors.find(
      (e) => e.step === "after flush: docker run -p" && e.signature === "no-chain",
    );
    expect(error?.text).toMatch(
      /driver failed programming external connectivity on endpoint late1 .*iptables: No chain\/target\/match by that name/,
    );
  });

  it("(d) restart-dockerd repairs it: old containers reachable again and the new `docker run -p` serves", () => {
    const fix = cell("flush-then-run+filter__dind__docker-28.5.2__1.8.11-2-nft").fixes.find(
      (f) => f.verdict.fix === "restart-dockerd",
    );
    expect(fix?.verdict.overall).toBe("repaired");
    const late =
      fix?.attempt.probes.filter((p) => p.vantage !== "cross-network" && p.target.startsWith("bridge/late1 ")) ?? [];
    expect(late.map((p) => p.vantage).sort()).toEqual(["external", "host-ip", "localhost"]);
    expectEvery(late, (p) => p.outcome === "ok");
  });
});
