import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { missingRules, engineGeneration, ruleLayout } from "../../src/assertions/expected-rules.js";
import { hasRule, parseIptablesSave, renderRuleSet, RuleSetParseError } from "../../src/assertions/iptables-save.js";
import { normaliseRules } from "../../src/report/goldens.js";
import { expectEvery, expectNone } from "../support/quantifiers.js";

// Dumps captured from real hosts: docker 28.5.2, default bridge + 3 user bridges, one published container each.
const dump = (name: string) => readFileSync(new URL(`../fixtures/iptables-save/${name}`, import.meta.url), "utf8");
const buggy = dump("docker-28.5.2_1.8.11-nft_3-bridges_buggy.txt");
const healthy = dump("docker-28.5.2_1.8.13-nft_3-bridges_healthy.txt");

const targets = (ids: [string, string, string, string]) => [
  { bridge: "docker0", subnet: "10.77.0.0/24", ip: "10.77.0.2", hostPort: 8080 },
  { bridge: `br-${ids[1]}`, subnet: "10.78.0.0/24", ip: "10.78.0.2", hostPort: 8081 },
  { bridge: `br-${ids[2]}`, subnet: "10.78.1.0/24", ip: "10.78.1.2", hostPort: 8082 },
  { bridge: `br-${ids[3]}`, subnet: "10.78.2.0/24", ip: "10.78.2.2", hostPort: 8083 },
];

describe("iptables-save parser", () => {
  it("reads tables, chains, policies and rules, dropping counters", () => {
    const rules = parseIptablesSave(healthy);
    expect([...rules.tables.keys()].sort()).toEqual(["filter", "nat", "raw"]);
    const filter = rules.tables.get("filter")?.chains;
    expect(filter?.get("FORWARD")?.policy).toBe("DROP");
    expect(filter?.has("DOCKER")).toBe(true);
    expect(filter?.get("DOCKER")?.policy).toBeUndefined();
    expect(filter?.has("DOCKER-BRIDGE")).toBe(true);
    expect(hasRule(rules, "filter", "FORWARD", "-j DOCKER-FORWARD")).toBe(true);
    expect(hasRule(rules, "nat", "DOCKER", "-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.77.0.2:80")).toBe(
      true,
    );
    expect(renderRuleSet(rules)).not.toMatch(/\[\d+:\d+\]/);
  });

  it("drops the counters of `iptables-save -c` rules", () => {
    const rules = parseIptablesSave("*filter\n:FORWARD DROP [1:2]\n[10:600] -A FORWARD -i eth0 -j ACCEPT\nCOMMIT\n");
    expect(rules.tables.get("filter")?.chains.get("FORWARD")?.rules).toEqual(["-i eth0 -j ACCEPT"]);
  });

  it("rejects rules for undeclared chains and rules outside a table, naming the line", () => {
    expect(() => parseIptablesSave("*filter\n-A NOPE -j ACCEPT\nCOMMIT")).toThrow(RuleSetParseError);
    expect(() => parseIptablesSave("-A FORWARD -j ACCEPT")).toThrow(/line 1: outside a table/);
  });
});

describe("expected rules per bridge", () => {
  it("knows which engine generation uses DOCKER-FORWARD", () => {
    expect(engineGeneration("28.5.2")).toBe("28+");
    expect(engineGeneration("26.1.5")).toBe("pre-28");
    // 28.0.0 matched its bridges with an ipset in FORWARD; the DOCKER-FORWARD chains came with 28.0.1
    expect(engineGeneration("28.0.0")).toBe("pre-28");
    expect(engineGeneration("28.0.1")).toBe("28+");
  });

  it("keeps 28.x releases that write the same rules differently apart (goldens per layout)", () => {
    // v28.0.1: DOCKER-USER ends in Docker's own RETURN (libnetwork/firewall_linux.go) and the raw
    // table drops direct access per published port (drivers/bridge/port_mapping_linux.go)
    expect(ruleLayout("28.0.1")).toBe("28.0-28.1");
    expect(ruleLayout("28.1.1")).toBe("28.0-28.1");
    expect(ruleLayout("28.2.0")).toBe("28.2.0-28.2.1");
    expect(ruleLayout("28.2.2")).toBe("28+");
    expect(ruleLayout("28.5.2")).toBe("28+");
    expect(ruleLayout("29.7.2")).toBe("29+");
    expect(ruleLayout("26.1.5")).toBe("pre-28");
  });

  it("a healthy 28.x host has every per-bridge and per-port rule", () => {
    expect(missingRules(healthy, targets(["", "6780172fca2a", "0f7ca793265d", "6ff7c2f49110"]), "28.5.2")).toEqual([]);
  });

  it("names exactly the rules the buggy -C made dockerd skip", () => {
    const missing = missingRules(buggy, targets(["", "d092e66e764f", "21102cf73dac", "5009bb2b158d"]), "28.5.2");
    expect(missing).toContain("filter DOCKER-BRIDGE -o br-d092e66e764f -j DOCKER");
    expect(missing).toContain(
      "filter DOCKER-CT -o br-5009bb2b158d -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    );
    expect(missing).toContain("filter DOCKER-FORWARD -i docker0 -j ACCEPT");
    // the first bridge's interface-only rules were added; rules that differ by address were not skipped
    expect(missing).not.toContain("filter DOCKER-BRIDGE -o docker0 -j DOCKER");
    expectNone(missing, (r) => r.includes("MASQUERADE") || r.startsWith("filter DOCKER -d"));
    expect(missing).toHaveLength(15);
  });

  it("a healthy 26.x host (FORWARD-based generation) has every expected rule", () => {
    const healthy26 = dump("docker-26.1.5_1.8.11-2-nft_3-bridges_healthy.txt");
    expect(missingRules(healthy26, targets(["", "17fd780353e4", "8de3bef279a0", "e483e28a3010"]), "26.1.5")).toEqual(
      [],
    );
    // the same dump judged by 28.x expectations lacks the newer chains: generations matter
    expect(
      missingRules(healthy26, targets(["", "17fd780353e4", "8de3bef279a0", "e483e28a3010"]), "28.5.2").length,
    ).toBeGreaterThan(0);
  });

  it("Debian 12's 20.10.24 is of the FORWARD-based generation: its real healthy rules are all there, and are 26.1.5's goldens", () => {
    const healthy2010 = dump("docker-20.10.24_1.8.9-nft_3-bridges_healthy.txt");
    const hosts2010 = targets(["", "9dbc962fac96", "e76f15575e27", "56448e859392"]);
    expect([engineGeneration("20.10.24"), ruleLayout("20.10.24")]).toEqual(["pre-28", "pre-28"]);
    expect(missingRules(healthy2010, hosts2010, "20.10.24")).toEqual([]);
    const golden = readFileSync(new URL("../../goldens/pre-28/nft/flush-then-run.rules", import.meta.url), "utf8");
    const withNames = hosts2010.map((t, i) => ({
      ...t,
      container: `c${i}`,
      network: i === 0 ? "bridge" : `fwc-net${i}`,
    }));
    expect(normaliseRules(healthy2010, withNames).join("\n")).toBe(golden.trimEnd());
  });

  it("after flushing filter on 26.x, every filter rule is named missing and nat rules are not", () => {
    const flushed = dump("docker-26.1.5_1.8.11-2-nft_after-flush-filter.txt");
    const missing = missingRules(flushed, targets(["", "903b20d868ef", "6e4bf21abe9d", "d02998ae16ff"]), "26.1.5");
    expect(missing).toHaveLength(4 * 6 + 4);
    expectEvery(missing, (r) => r.startsWith("filter "));
  });

  it("reports an unreadable rule set instead of claiming every rule is missing", () => {
    expect(missingRules("garbage", targets(["", "a", "b", "c"]), "28.5.2")).toEqual([
      expect.stringMatching(/^\(rule set unreadable/),
    ]);
  });
});
