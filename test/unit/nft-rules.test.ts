import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { missingNftRules } from "../../src/assertions/expected-nft-rules.js";
import { NFT_ABSENT } from "../../src/contract/host-contract.js";
import { READS } from "../../src/harness/host-reads.js";
import { engineGeneration, missingRules } from "../../src/assertions/expected-rules.js";
import {
  NftParseError,
  parseNftRuleset,
  renderNftFacts,
  tryParseNftRuleset,
  withoutCounters,
} from "../../src/assertions/nft-ruleset.js";
import { cell } from "../support/fake-results.js";
import { expectEvery, expectNone } from "../support/quantifiers.js";

// `nft list ruleset` and iptables-save captured on real Docker 29.7.2 hosts (default bridge + 3 user bridges).
const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), "utf8");
const healthyNft = fixture("nft/docker-29.7.2_nftables_3-bridges_healthy.nft");
const afterNftFlush = fixture("nft/docker-29.7.2_nftables_after-nft-flush-ruleset-and-run.nft");
const healthyIptables29 = fixture("iptables-save/docker-29.7.2_1.8.13-nft_3-bridges_healthy.txt");
const healthyIptables28 = fixture("iptables-save/docker-28.5.2_1.8.13-nft_3-bridges_healthy.txt");

/** The default bridge and three user bridges of these hosts, one published container each. */
const targetsOf = (userBridges: [string, string, string]) => [
  { bridge: "docker0", subnet: "10.77.0.0/24", ip: "10.77.0.2", hostPort: 8080 },
  ...userBridges.map((id, i) => ({
    bridge: `br-${id}`,
    subnet: `10.78.${i}.0/24`,
    ip: `10.78.${i}.2`,
    hostPort: 8081 + i,
  })),
];
const nftTargets = targetsOf(["e0c0c9ed4c7d", "43f2b9651982", "cd7b5a2a7ae0"]);

describe("nft ruleset parser", () => {
  it("reads tables, base chains with hooks, regular chains, rules without counters, and map elements", () => {
    const ruleset = parseNftRuleset(healthyNft);
    expect([...ruleset.keys()]).toEqual(["ip docker-bridges", "ip6 docker-bridges"]);
    const table = ruleset.get("ip docker-bridges");
    expect(table?.chains.get("filter-FORWARD")?.hook).toBe("type filter hook forward priority filter; policy accept");
    expect(table?.chains.get("nat-prerouting-and-output")?.hook).toBeUndefined();
    expect(table?.chains.get("nat-prerouting-and-output")?.rules).toContain(
      'tcp dport 8082 dnat to 10.78.1.2:80 comment "DNAT"',
    );
    expect(table?.chains.get("nat-OUTPUT")?.rules).toEqual(["fib daddr type local jump nat-prerouting-and-output"]);
    expect(table?.maps.get("filter-forward-in-jumps")).toHaveLength(4);
    expect(table?.maps.get("filter-forward-in-jumps")).toContain('"docker0" : jump filter-forward-in__docker0');
    expect(ruleset.get("ip6 docker-bridges")?.maps.get("filter-forward-in-jumps")).toEqual([]);
    // 4 bridges × 4 per-bridge chains + 6 shared chains
    expect(table?.chains.size).toBe(22);
  });

  it("drops packet counters, which change with traffic", () => {
    expect(withoutCounters("ip daddr 10.77.0.2 tcp dport 80 counter packets 12 bytes 720 accept")).toBe(
      "ip daddr 10.77.0.2 tcp dport 80 accept",
    );
    expect(withoutCounters("counter drop")).toBe("drop");
  });

  it("rejects text that is no ruleset and renders one fact per line, stable across counters", () => {
    expect(() => parseNftRuleset("chain x {\n}\n")).toThrow(NftParseError);
    expect(() => parseNftRuleset("table ip t {\n")).toThrow(/not closed/);
    expect(tryParseNftRuleset("nonsense {")).toBeUndefined();
    const recount = healthyNft.replace(/packets \d+ bytes \d+/g, "packets 99 bytes 9999");
    expect(renderNftFacts(parseNftRuleset(recount))).toEqual(renderNftFacts(parseNftRuleset(healthyNft)));
    expect(renderNftFacts(parseNftRuleset(healthyNft))).toContain(
      "ip docker-bridges chain filter-FORWARD rule oifname vmap @filter-forward-in-jumps",
    );
  });
});

describe("expected nftables-backend rules per bridge", () => {
  it("a healthy Docker 29 nftables host has everything for every bridge and published port", () => {
    expect(missingNftRules(healthyNft, nftTargets)).toEqual([]);
  });

  it("after nft flush ruleset and dockerd's next run, names the hooked chains it did not recreate and the old bridges' rules", () => {
    const missing = missingNftRules(afterNftFlush, nftTargets);
    for (const chain of [
      "filter-FORWARD (hook forward)",
      "nat-PREROUTING (hook prerouting)",
      "nat-OUTPUT (hook output)",
      "nat-POSTROUTING (hook postrouting)",
    ]) {
      expect(missing).toContain(`ip docker-bridges base chain ${chain}`);
    }
    expect(missing).not.toContain("ip docker-bridges base chain raw-PREROUTING (hook prerouting)");
    expect(missing).toContain(
      'ip docker-bridges map filter-forward-in-jumps "br-e0c0c9ed4c7d" : jump filter-forward-in__br-e0c0c9ed4c7d',
    );
    expect(missing).toContain('ip docker-bridges filter-forward-out__docker0 accept comment "OUTGOING"');
    // dockerd re-added the DNAT rules of the running containers
    expectNone(missing, (m) => m.includes("dnat to 10.78.0.2:80"));
  });

  it("a ruleset without Docker's table says so in one line", () => {
    expect(
      missingNftRules(
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n",
        nftTargets,
      ),
    ).toEqual(["table ip docker-bridges (Docker's whole nftables rule set)"]);
  });

  it("on a host without nft it claims nothing missing: it says nft is absent", () => {
    expect(missingNftRules(NFT_ABSENT, nftTargets)).toEqual([`(${NFT_ABSENT})`]);
    expect(READS.nftRuleset.parse({ exitCode: 3, stdout: "", stderr: "", ms: 1 })).toBe(NFT_ABSENT);
    expect(READS.nftRuleset.parse({ exitCode: 0, stdout: healthyNft, stderr: "", ms: 1 })).toBe(healthyNft);
  });
});

describe("expected iptables-backend rules on Docker 29", () => {
  const ipt29Targets = targetsOf(["0c8ea23eb00b", "1cabd8db763f", "a478e33bbcc3"]);

  it("29.x is its own generation: no DOCKER-ISOLATION chains", () => {
    expect(engineGeneration("29.7.2")).toBe("29+");
    expect(engineGeneration("29.0.0")).toBe("29+");
    expect(engineGeneration("28.5.2")).toBe("28+");
    expect(healthyIptables29).not.toMatch(/DOCKER-ISOLATION/);
  });

  it("a healthy 29 host has every rule of its generation, and would miss the isolation chains under 28's", () => {
    expect(missingRules(healthyIptables29, ipt29Targets, "29.7.2")).toEqual([]);
    const as28 = missingRules(healthyIptables29, ipt29Targets, "28.5.2");
    expect(as28.length).toBe(8);
    expectEvery(as28, (r) => r.includes("DOCKER-ISOLATION-STAGE"));
  });

  it("the 28 host lacks nothing 29 checks besides its own chains", () => {
    expect(
      missingRules(healthyIptables28, targetsOf(["6780172fca2a", "0f7ca793265d", "6ff7c2f49110"]), "29.7.2"),
    ).toEqual([]);
  });

  it("after an iptables flush of filter, the 29 checks name the per-bridge DROP and the per-port ACCEPT", () => {
    const [raw = "", filter = "", nat = ""] = healthyIptables29
      .split(/(?=^\*)/m)
      .filter((part) => part.startsWith("*"));
    const flushed = [raw, filter.replace(/^-A .*\n/gm, ""), nat].join("");
    const missing = missingRules(flushed, ipt29Targets, "29.7.2");
    expect(missing).toContain("filter DOCKER ! -i br-1cabd8db763f -o br-1cabd8db763f -j DROP");
    expect(missing).toContain(
      "filter DOCKER -d 10.78.2.2/32 ! -i br-a478e33bbcc3 -o br-a478e33bbcc3 -p tcp -m tcp --dport 80 -j ACCEPT",
    );
    expect(missing.filter((m) => m.startsWith("nat ") || m.startsWith("raw "))).toEqual([]);
  });
});

describe("why dockerd refused to start", () => {
  it("takes dockerd's own closing line from the start step's output", async () => {
    const { refusalDetail } = await import("../../src/harness/host-ops.js");
    expect(refusalDetail(fixture("dockerd/docker-29.7.2_nftables_ip-forward-0_start.txt"))).toBe(
      'failed to start daemon: Error initializing network controller: error creating default "bridge" network: IPv4 forwarding is disabled: check your host\'s firewalling and set sysctl net.ipv4.ip_forward=1, or disable this check using daemon option --ip-forward=false',
    );
    expect(refusalDetail('time="x" level=fatal msg="boom \\"quoted\\""')).toBe('boom "quoted"');
    expect(
      refusalDetail("Error response from daemon: could not find an available, non-overlapping IPv4 address pool\n"),
    ).toBe("Error response from daemon: could not find an available, non-overlapping IPv4 address pool");
  });
});

describe("goldens of the nftables backend", () => {
  it("normalise nft list ruleset by bridge name, so two healthy hosts compare equal", async () => {
    const { normaliseRules } = await import("../../src/report/goldens.js");
    const run2 = fixture("nft/docker-29.7.2_nftables_3-bridges_run2.nft");
    const bridgesOf = (ids: string[]) =>
      ids.map((id, i) => ({ network: `fwc-net${i + 1}`, bridge: `br-${id}`, container: "", subnet: "", ip: "" }));
    const a = normaliseRules(healthyNft, bridgesOf(["e0c0c9ed4c7d", "43f2b9651982", "cd7b5a2a7ae0"]), "nft");
    const b = normaliseRules(run2, bridgesOf(["de9c5731ebf0", "c91e39b86a56", "60109736e55e"]), "nft");
    // Docker's own table is the same on both; the second host also shows the embedded DNS's nat rules, ports normalised
    const docker = (lines: string[]) => lines.filter((l) => l.startsWith("ip docker-bridges "));
    expect(docker(a)).toEqual(docker(b));
    expect(b).toContain("ip nat chain DOCKER_POSTROUTING rule ip saddr 127.0.0.11 tcp sport <dns-port> snat to :53");
    expect(a).toContain(
      "ip docker-bridges chain filter-forward-in__br-{fwc-net2} rule ip daddr 10.78.1.2 tcp dport 80 accept",
    );
  });

  it("a host without nft has nothing to compare with its golden, and the report does not trip over it", async () => {
    const { diffAgainstGolden } = await import("../../src/report/goldens.js");
    const on29 = (nftFinal: string) => {
      const result = cell("1.8.11-2", "refused", []);
      const baseline = result.baseline as NonNullable<typeof result.baseline>;
      return {
        ...result,
        baseline: {
          ...baseline,
          rules: { nftFinal },
          evidence: {
            hostMode: "fake",
            kernel: "6.1.0",
            iptablesVersion: "iptables v1.8.11 (nf_tables)",
            iptablesPackage: "iptables 1.8.11-2",
            cgroup: "v1",
            backend: "nft" as const,
            dockerdVersion: "Docker version 29.7.2, build 6a43e3d",
            checkProbe: "correct" as const,
            ipForward: { atStart: 1, afterDockerd: 1 },
            firewallBackend: "nftables",
          },
        },
      };
    };
    // the same cell with a real ruleset is compared with 29+/nftables/curl-timeout
    expect(await diffAgainstGolden(on29(healthyNft))).toMatchObject({ golden: "29+/nftables/curl-timeout" });
    expect(await diffAgainstGolden(on29(NFT_ABSENT))).toBeUndefined();
  });
});
