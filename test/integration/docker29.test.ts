import { beforeAll, describe, expect, it } from "vitest";
import { parseTrace } from "../../src/assertions/trace.js";
import type { CellResult } from "../../src/results/schema.js";
import { leftovers, sourceFileForTests } from "../support/cli.js";
import { runMatrixForTest, type MatrixRun } from "../support/matrix-run.js";
import { expectEvery, expectNone } from "../support/quantifiers.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";
import { fixOf } from "../support/cell-parts.js";
import { warmedImages } from "../support/warmed.js";

await warmedImages("test/fixtures/matrices/docker29.yaml");

// Docker 29.7.2 compiled from the moby archive in the local source directory (by the integration
// tier's global setup, several minutes cold on 2 cores, cached after), real iptables builds, real traffic.
let run: MatrixRun;
const cell = (prefix: string) => run.cell(prefix);
const byVantage = (probes: CellResult["fixes"][number]["attempt"]["probes"], vantage: string) =>
  probes.filter((p) => p.vantage === vantage);

beforeAll(async () => {
  const { sources } = await sourceFileForTests("moby-docker-v29.7.2.tar.xz");
  run = await runMatrixForTest("test/fixtures/matrices/docker29.yaml", {
    timeoutMs: WARM_RUN_MS,
    env: { FWCOMPAT_SOURCE_DIR: sources },
  });
}, WARM_RUN_TEST_MS);

const IPT = "curl-timeout__dind__docker-29.7.2__1.8.11-nft__fw-iptables";
const NFT = "curl-timeout__dind__docker-29.7.2__1.8.11-nft__fw-nftables";
const FLUSH = "flush-then-run+nft-flush-ruleset__dind__docker-29.7.2__1.8.11-2-nft__fw-nftables";
const REFUSED = "ip-forward-off+before__dind__docker-29.7.2__1.8.11-2-nft__fw-nftables";

describe("Docker 29 built from source, on real hosts", () => {
  it("finishes with exit 0, a result per cell, and nothing of the run left on the engine", async () => {
    expect(run.exitCode, run.output.slice(-2000)).toBe(0);
    expect(run.cells.size).toBe(4);
    expect(await leftovers(run.runId)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it("runs the engine compiled from the pinned commit, and records tag, commit and Go", () => {
    for (const id of [IPT, NFT, FLUSH]) {
      const ev = cell(id).baseline?.evidence;
      expect(ev?.dockerdVersion).toBe("Docker version 29.7.2, build 6a43e3d");
      expect(ev?.engineBuild).toEqual({
        tag: "docker-v29.7.2",
        commit: "6a43e3d5afddf4111da0f864bbc7cae5d7e95001",
        go: expect.stringMatching(/^go1\.26\.\d+$/),
      });
    }
  });

  it("reads the firewall backend in force back from docker info", () => {
    expect(cell(IPT).baseline?.evidence?.firewallBackend).toBe("iptables");
    expect(cell(NFT).baseline?.evidence?.firewallBackend).toBe("nftables");
  });

  it("iptables backend + upstream 1.8.11: 29 still trusts -C, skips rules, and published ports time out", () => {
    const result = cell(IPT);
    expect(result.status).toBe("reproduced");
    expect(result.baseline?.evidence?.checkProbe).toBe("buggy");
    for (const vantage of ["external", "localhost"])
      expect(byVantage(result.baseline?.probes ?? [], vantage).some((p) => p.outcome === "timeout")).toBe(true);
    expectEvery(byVantage(result.baseline?.probes ?? [], "host-ip"), (p) => p.pass);
    expect(result.baseline?.trace?.skippedRules.map((s) => s.rule)).toContain(
      "filter DOCKER-BRIDGE -o br-{fwc-net2} -j DOCKER",
    );
    expect(result.baseline?.missingRules).toContain(`filter DOCKER-FORWARD -i docker0 -j ACCEPT`);
    expectNone(result.baseline?.missingRules, (r) => r.includes("DOCKER-ISOLATION"));
  });

  it("nftables backend + the same iptables: every probe as expected, nothing missing from Docker's nft table", () => {
    const result = cell(NFT);
    expect(result.status).toBe("works");
    expect(result.baseline?.probes.length).toBe(16);
    expect(result.baseline?.missingRules).toEqual([]);
    expect(result.baseline?.rules.nftFinal).toMatch(/^table ip docker-bridges \{/m);
    expect(result.baseline?.trace?.dockerdNftCalls).toBeGreaterThan(10);
    expect(result.baseline?.trace?.skippedRules).toEqual([]);
  });

  it("fixes on 29: upgrading iptables repairs the iptables backend and means nothing to the nftables one", () => {
    expect(fixOf(cell(IPT), "iptables-upgrade").verdict.overall).toBe("repaired");
    const moot = fixOf(cell(NFT), "iptables-upgrade");
    expect(moot.verdict.overall).toBe("not-applicable");
    expect(moot.attempt.reason).toMatch(/nftables firewall backend does not program its rules through iptables/);
    expect(fixOf(cell(NFT), "switch-firewall-backend").attempt.reason).toBe(
      "dockerd already uses the nftables firewall backend",
    );
  });

  it("switch-firewall-backend on the broken iptables host: nftables in force, judged by traffic per vantage", () => {
    const { verdict, attempt } = fixOf(cell(IPT), "switch-firewall-backend");
    expect(attempt.fixNote).toBe("firewall backend iptables -> nftables; docker info now reports nftables");
    expect(attempt.missingRules).toEqual([]);
    // loopback traffic never crosses FORWARD: the new backend's rules carry it
    expect(verdict.vantages.localhost).toBe("repaired");
    // the FORWARD policy DROP the iptables backend set at its first start stays in the iptables filter table
    expect(verdict.vantages.external).toBe("still-broken");
    expect(attempt.rules.final).toMatch(/^:FORWARD DROP/m);
    expect(verdict.overall).toBe("partial");
  });

  it("nft-flush-ruleset: running containers' ports time out, the next docker run -p succeeds silently and does not serve", () => {
    const result = cell(FLUSH);
    expect(result.status).toBe("reproduced");
    const probes = result.baseline?.probes ?? [];
    for (const vantage of ["localhost", "host-ip", "external"])
      expectEvery(byVantage(probes, vantage), (p) => p.outcome === "timeout");
    const late = result.baseline?.steps.find((s) => s.name === "after flush: docker run -p 8084:80");
    expect(late?.exitCode).toBe(0);
    expect(
      probes.filter((p) => p.target.startsWith("bridge/late1 ") && p.vantage !== "cross-network").map((p) => p.outcome),
    ).toEqual(["timeout", "timeout", "timeout"]);
    expect(result.baseline?.errors).toEqual([]);
    expect(result.baseline?.rules.nftBeforeBreak).toMatch(/chain filter-FORWARD \{\n\s+type filter hook forward/);
    expect(result.baseline?.missingRules).toContain("ip docker-bridges base chain filter-FORWARD (hook forward)");
    expect(result.baseline?.missingRules).toContain("ip docker-bridges base chain nat-PREROUTING (hook prerouting)");
    expect(result.explanation).toMatch(/expected rule\(s\) missing at probe time: ip docker-bridges base chain/);
    // the service's own nft call is in the trace beside dockerd's
    const service = parseTrace(result.baseline?.traceLog ?? "").find((c) => c.tool === "nft" && c.caller === "sh");
    expect(service?.args).toEqual(["-f", "/etc/nftables.conf"]);
    expect(service?.exitCode).toBe(0);
  });

  it("nft-flush-ruleset: restarting dockerd repairs every vantage, new container included", () => {
    const { verdict, attempt } = fixOf(cell(FLUSH), "restart-dockerd");
    expect(verdict.overall).toBe("repaired");
    expect(verdict.vantages).toMatchObject({ localhost: "repaired", "host-ip": "repaired", external: "repaired" });
    expectEvery(
      attempt.probes.filter((p) => p.target.startsWith("bridge/late1 ") && p.vantage !== "cross-network"),
      (p) => p.outcome === "ok",
    );
    expect(attempt.missingRules).toEqual([]);
  });

  it("a dockerd that refuses to start under the cell's settings is the cell's result, in its own words", () => {
    const result = cell(REFUSED);
    expect(result.status).toBe("refused");
    expect(result.reason).toMatch(
      /^forwarding off, restart dockerd: failed to start daemon: .*IPv4 forwarding is disabled/,
    );
    expect(result.baseline?.refusal?.step).toBe("forwarding off, restart dockerd");
    expect(result.baseline?.probes).toEqual([]);
  });
});
