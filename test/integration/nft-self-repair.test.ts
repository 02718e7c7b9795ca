import { beforeAll, describe, expect, it } from "vitest";
import { NFT_ABSENT } from "../../src/contract/host-contract.js";
import type { CellResult, ProbeRecord } from "../../src/results/schema.js";
import { leftovers, sourceFileForTests } from "../support/cli.js";
import { runMatrixForTest, type MatrixRun } from "../support/matrix-run.js";
import { expectEvery } from "../support/quantifiers.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";
import { fixOf } from "../support/cell-parts.js";
import { warmedImages } from "../support/warmed.js";

await warmedImages("test/fixtures/matrices/nft-self-repair.yaml");

// Docker 29.7.2 compiled from the moby archive, its nftables firewall backend, real traffic. What each
// cell should show was read from moby 29.7.2's source (daemon/libnetwork/internal/nftables): dockerd
// re-creates its whole table only when an incremental `nft -f -` fails, and its incremental scripts
// declare every table, map and chain they touch, so after `nft flush ruleset` a network create or a
// `docker run -p` does not fail, and only what it touched comes back.
let run: MatrixRun;
const cell = (prefix: string) => run.cell(prefix);

beforeAll(async () => {
  const { sources } = await sourceFileForTests("moby-docker-v29.7.2.tar.xz");
  run = await runMatrixForTest("test/fixtures/matrices/nft-self-repair.yaml", {
    timeoutMs: WARM_RUN_MS,
    env: { FWCOMPAT_SOURCE_DIR: sources },
  });
}, WARM_RUN_TEST_MS);

const id = (variant: string) => `nft-self-repair+${variant}__dind__docker-29.7.2__1.8.11-2-nft__fw-nftables`;
const NO_NFT = "no-nft__dind__docker-29.7.2__1.8.11-2-nft__fw-nftables";
const NO_NFT_IPTABLES = "no-nft__dind__docker-29.7.2__1.8.11-2-nft__fw-iptables";
const PUBLISHED = ["localhost", "host-ip", "external"];
const OLD_PORTS = [
  "old bridge/n0c1 :8080",
  "old fwc-net1/n1c1 :8081",
  "old fwc-net2/n2c1 :8082",
  "old fwc-net3/n3c1 :8083",
];

/** The published-port probes of one vantage, by target, e.g. { "old bridge/n0c1 :8080": "timeout" }. */
const outcomes = (probes: readonly ProbeRecord[] | undefined, vantage: string) =>
  Object.fromEntries((probes ?? []).filter((p) => p.vantage === vantage).map((p) => [p.target, p.outcome]));
const crossNetwork = (probes: readonly ProbeRecord[] | undefined) =>
  (probes ?? []).filter((p) => p.vantage === "cross-network");

/** Every listed target from every published vantage: answered (ok) or not. */
function expectPorts(result: CellResult, targets: readonly string[], answered: boolean): void {
  for (const vantage of PUBLISHED) {
    const seen = outcomes(result.baseline?.probes, vantage);
    for (const target of targets) {
      expect(seen[target], `${result.cell.id} ${vantage} ${target}`).toBeDefined();
      expect(seen[target] === "ok", `${result.cell.id} ${vantage} ${target}: ${seen[target]}`).toBe(answered);
    }
  }
}

/** No reload and no failed nft update by dockerd in the whole attempt. */
function expectNoReload(result: CellResult): void {
  expect(result.baseline?.trace?.dockerdNftCalls).toBeGreaterThan(5);
  expect(result.baseline?.trace?.dockerdNftReloads).toBe(0);
  expect(result.baseline?.trace?.failedCalls).toEqual([]);
}

describe("Docker 29 nftables backend after nft flush ruleset: which action brings which ports back", () => {
  it("finishes with exit 0, a result per cell, and nothing of the run left on the engine", async () => {
    expect(run.exitCode, run.output.slice(-2000)).toBe(0);
    expect(run.cells.size).toBe(6);
    expect(await leftovers(run.runId)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it("every cell ran the nftables backend and had Docker's whole table before the flush", () => {
    for (const variant of ["none", "network-create", "run-p", "network-rm"]) {
      const result = cell(id(variant));
      expect(result.baseline?.evidence?.firewallBackend).toBe("nftables");
      expect(result.baseline?.rules.nftBeforeBreak).toMatch(/chain filter-FORWARD \{\n\s+type filter hook forward/);
      expect(result.baseline?.steps.find((s) => s.name === "nft flush ruleset")?.exitCode).toBe(0);
    }
  });

  it("none: no old port answers from any vantage, isolation between networks is gone, nothing reloads", () => {
    const result = cell(id("none"));
    expect(result.status).toBe("reproduced");
    expect(result.baseline?.userActions).toEqual([]);
    expectPorts(result, OLD_PORTS, false);
    expect(crossNetwork(result.baseline?.probes)).toHaveLength(4);
    expectEvery(crossNetwork(result.baseline?.probes), (p) => p.outcome === "ok");
    expect(result.securityFindings?.length).toBeGreaterThan(0);
    expect(result.baseline?.missingRules).toEqual(["table ip docker-bridges (Docker's whole nftables rule set)"]);
    expectNoReload(result);
  });

  it("network-create: succeeds without a reload; its chains come back, no hooked chain does, so no old port answers", () => {
    const result = cell(id("network-create"));
    expect(result.status).toBe("reproduced");
    expect(result.baseline?.userActions.map((a) => [a.action, a.ok])).toEqual([["docker network create", true]]);
    expectPorts(result, OLD_PORTS, false);
    expectEvery(crossNetwork(result.baseline?.probes), (p) => p.outcome === "ok");
    // the update re-created Docker's table (not a reload), without one hooked chain
    expect(result.baseline?.rules.nftFinal).toMatch(/^table ip docker-bridges \{/m);
    for (const chain of [
      "filter-FORWARD (hook forward)",
      "nat-PREROUTING (hook prerouting)",
      "nat-OUTPUT (hook output)",
      "nat-POSTROUTING (hook postrouting)",
      "raw-PREROUTING (hook prerouting)",
    ])
      expect(result.baseline?.missingRules).toContain(`ip docker-bridges base chain ${chain}`);
    expectNoReload(result);
  });

  it("run-p: succeeds without a reload; neither the old ports nor the new one answer; raw-PREROUTING's drops restore isolation", () => {
    const result = cell(id("run-p"));
    expect(result.status).toBe("reproduced");
    expect(result.baseline?.userActions.map((a) => [a.action, a.ok])).toEqual([["docker run -p 8084:80", true]]);
    expectPorts(result, [...OLD_PORTS, "new bridge/late1 :8084"], false);
    expect(crossNetwork(result.baseline?.probes)).toHaveLength(4);
    expectEvery(crossNetwork(result.baseline?.probes), (p) => p.pass);
    const missing = result.baseline?.missingRules ?? [];
    expect(missing).toContain("ip docker-bridges base chain filter-FORWARD (hook forward)");
    expect(missing).toContain("ip docker-bridges base chain nat-PREROUTING (hook prerouting)");
    expect(missing).not.toContain("ip docker-bridges base chain raw-PREROUTING (hook prerouting)");
    expectNoReload(result);
  });

  it("network-rm: the removal's update fails on the flushed table, dockerd reloads it whole, and every old port answers", () => {
    const result = cell(id("network-rm"));
    expect(result.status).toBe("works");
    expect(result.baseline?.userActions.map((a) => [a.action, a.ok])).toEqual([["docker network rm", true]]);
    expectPorts(result, OLD_PORTS, true);
    expectEvery(crossNetwork(result.baseline?.probes), (p) => p.pass);
    expect(result.baseline?.missingRules).toEqual([]);
    const trace = result.baseline?.trace;
    expect(trace?.dockerdNftReloads).toBeGreaterThanOrEqual(1);
    expect(trace?.failedCalls.map((f) => f.step)).toContain("after nft flush ruleset: docker network rm");
    expect(trace?.explanation).toMatch(
      /dockerd re-created its whole nftables table \d+ time\(s\), during after nft flush ruleset: docker network rm/,
    );
  });

  it("restarting dockerd brings every old port back after none, network-create and run-p (and the new one after run-p)", () => {
    for (const variant of ["none", "network-create", "run-p"]) {
      const { verdict, attempt } = fixOf(cell(id(variant)), "restart-dockerd");
      expect(verdict.overall, variant).toBe("repaired");
      for (const vantage of PUBLISHED) expect(verdict.vantages[vantage], `${variant} ${vantage}`).toBe("repaired");
      expect(attempt.missingRules, variant).toEqual([]);
    }
    const late = fixOf(cell(id("run-p")), "restart-dockerd").attempt.probes.filter((p) => p.target.startsWith("new "));
    expect(late).toHaveLength(3);
    expectEvery(late, (p) => p.outcome === "ok");
    expect(fixOf(cell(id("network-rm")), "restart-dockerd").verdict.overall).toBe("ok");
  });
});

describe("a host without the nft binary", () => {
  it("nftables backend: the cell is refused in dockerd's own words, and the nft evidence says nft is absent", () => {
    const result = cell(NO_NFT);
    expect(result.status).toBe("refused");
    expect(result.reason).toMatch(
      /^nft removed, restart dockerd: failed to start daemon: .*firewall-backend is set to nftables: failed to find nft tool: exec: "nft": executable file not found in \$PATH/,
    );
    expect(result.baseline?.status).toBe("done");
    expect(result.baseline?.refusal?.step).toBe("nft removed, restart dockerd");
    expect(result.baseline?.probes).toEqual([]);
    expect(result.baseline?.rules.nftFinal).toBe(NFT_ABSENT);
    expect(result.baseline?.missingRules).toEqual([`(${NFT_ABSENT})`]);
  });

  it("iptables backend: dockerd starts without nft and every probe is as expected; the evidence reader says nft is absent", () => {
    const result = cell(NO_NFT_IPTABLES);
    expect(result.status).toBe("works");
    expect(result.baseline?.probes.length).toBe(16);
    expectEvery(result.baseline?.probes, (p) => p.pass);
    expect(result.baseline?.rules.nftFinal).toBe(NFT_ABSENT);
    expect(result.baseline?.missingRules).toEqual([]);
  });
});
