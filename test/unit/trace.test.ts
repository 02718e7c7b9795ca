import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { analyseTrace, reloadsTable } from "../../src/assertions/attribution.js";
import { nameBridges, unnameBridges } from "../../src/assertions/bridge-names.js";
import { parseIptablesSave } from "../../src/assertions/iptables-save.js";
import { canonicalSpec, parseCall, parseTrace } from "../../src/assertions/trace.js";
import { expectEvery, expectNone } from "../support/quantifiers.js";

// Traces recorded by the in-host shim on real hosts (docker 28.5.2, default bridge + 3 user bridges).
const fixture = (name: string) => readFileSync(new URL(`../fixtures/traces/${name}`, import.meta.url), "utf8");
const analyse = (prefix: string, steps?: string) =>
  analyseTrace(parseTrace(fixture(`${prefix}.trace`)), {
    finalRules: steps ? undefined : parseIptablesSave(fixture(`${prefix}.final.txt`)),
    steps: steps ? JSON.parse(fixture(steps)) : undefined,
  });

describe("iptables call parsing", () => {
  it("splits table, operation, chain and spec; drops --wait and -I's position", () => {
    expect(parseCall(["--wait", "-t", "nat", "-I", "DOCKER", "1", "-i", "docker0", "-j", "RETURN"])).toEqual({
      table: "nat",
      operation: "insert",
      chain: "DOCKER",
      spec: ["-i", "docker0", "-j", "RETURN"],
    });
    expect(parseCall(["-w", "-C", "FORWARD", "-j", "DOCKER-USER"]).operation).toBe("check");
    expect(parseCall(["--version"]).operation).toBe("other");
  });

  it("puts a spec in iptables-save form", () => {
    expect(
      canonicalSpec([
        "!",
        "-i",
        "docker0",
        "-o",
        "docker0",
        "-p",
        "tcp",
        "-d",
        "172.17.0.2",
        "--dport",
        "80",
        "-j",
        "ACCEPT",
      ]),
    ).toBe("-d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT");
    expect(canonicalSpec(["-o", "br-1", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"])).toBe(
      "-o br-1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    );
    expect(canonicalSpec(["-p", "tcp", "-m", "tcp", "--dport", "80", "-j", "DNAT"])).toBe(
      "-p tcp -m tcp --dport 80 -j DNAT",
    );
  });

  it("reads the shim's lines: times, caller, argv and multi-line stderr", () => {
    const calls = parseTrace(fixture("docker-28.5.2_1.8.11-nft_3-bridges.trace"));
    expect(calls.length).toBeGreaterThan(200);
    expect(calls.filter((c) => c.caller === "dockerd").length).toBeGreaterThan(200);
    const failed = calls.find((c) => c.exitCode === 2 && c.caller === "dockerd");
    expect(failed?.stderr).toMatch(/does not exist\.?\nTry `iptables -h'/);
    expectEvery(calls, (c, i) => i === 0 || c.startMs >= (calls[i - 1]?.startMs ?? 0));
  });
});

describe("attribution on recorded traces", () => {
  it("upstream 1.8.11: checks that lied, and the rules they cost, confirmed absent from the rule set", () => {
    const a = analyse("docker-28.5.2_1.8.11-nft_3-bridges");
    expect(a.falsePositives.length).toBeGreaterThan(0);
    const targets = JSON.parse(fixture("docker-28.5.2_1.8.11-nft_3-bridges.targets.json"));
    const skipped = a.skippedRules.map((s) => nameBridges(s.rule, targets));
    for (const net of ["fwc-net1", "fwc-net2", "fwc-net3"])
      expect(skipped).toContain(`filter DOCKER-BRIDGE -o br-{${net}} -j DOCKER`);
    expectNone(skipped, (r) => r.includes("docker0"));
    expectEvery(a.skippedRules, (s) => s.confirmedMissing);
    expect(a.explanation).toMatch(
      /^\d+ iptables -C check\(s\) answered "exists" for rules that were not there → skipped: DOCKER-BRIDGE -o br-/,
    );
  });

  it("Debian 1.8.11-2: the same deployment shows no wrong answer", () => {
    const a = analyse("docker-28.5.2_1.8.11-2-nft_3-bridges");
    expect(a.falsePositives).toEqual([]);
    expect(a.falseNegatives).toEqual([]);
    expect(a.deleteMismatches).toEqual([]);
    expect(a.skippedRules).toEqual([]);
    expect(a.failedCalls).toEqual([]);
    expect(a.explanation).toMatch(/^no wrong answers: \d+ iptables calls by dockerd, none failed$/);
  });

  it("flush-then-run: the failing calls, their error, and the scenario steps they belong to", () => {
    const a = analyse("docker-28.5.2_1.8.11-2-nft_flush-filter", "docker-28.5.2_1.8.11-2-nft_flush-filter.steps.json");
    expect(a.falsePositives).toEqual([]);
    const run = a.failedCalls.filter((f) => f.step?.startsWith("after flush: docker run -p"));
    expect(run.length).toBeGreaterThan(0);
    expect(run[0]?.stderr).toMatch(/No chain\/target\/match by that name/);
    expect(a.failedCalls.some((f) => f.step === "after flush: docker network create")).toBe(true);
    expectEvery(a.failedCalls, (f) => f.step !== undefined && f.step !== "start dockerd");
  });

  it("bridge names by network round-trip", () => {
    const targets = [
      { network: "fwc-net1", bridge: "br-0123456789ab" },
      { network: "bridge", bridge: "docker0" },
    ];
    const named = nameBridges("filter DOCKER-BRIDGE -o br-0123456789ab -j DOCKER", targets);
    expect(named).toBe("filter DOCKER-BRIDGE -o br-{fwc-net1} -j DOCKER");
    expect(unnameBridges(named, [{ network: "fwc-net1", bridge: "br-ba9876543210" }])).toBe(
      "filter DOCKER-BRIDGE -o br-ba9876543210 -j DOCKER",
    );
  });
});

describe("nft calls in the trace (Docker 29)", () => {
  // Recorded on real 29.7.2 hosts with upstream iptables 1.8.11: nftables backend, and iptables backend.
  const nftTrace = parseTrace(fixture("docker-29.7.2_1.8.11-nft_fw-nftables_3-bridges.trace"));
  const iptTrace = parseTrace(fixture("docker-29.7.2_1.8.11-nft_fw-iptables_3-bridges.trace"));

  it("reads nft lines with the script dockerd fed to `nft -f -`", () => {
    const loads = nftTrace.filter((c) => c.tool === "nft" && c.caller === "dockerd" && c.args.join(" ") === "-f -");
    expect(loads.length).toBeGreaterThan(10);
    expect(loads.some((c) => c.stdin?.includes("table ip docker-bridges {"))).toBe(true);
    expect(loads.some((c) => /dnat to 10\.78\.\d+\.2:80/.test(c.stdin ?? ""))).toBe(true);
    expectEvery(
      nftTrace.filter((c) => c.tool !== "nft"),
      (c) => c.stdin === undefined,
    );
  });

  it("keeps nft calls out of the iptables model and counts dockerd's", () => {
    const nft = analyseTrace(nftTrace, {});
    expect(nft.dockerdNftCalls).toBe(nftTrace.filter((c) => c.tool === "nft" && c.caller === "dockerd").length);
    expect(nft.dockerdCalls).toBe(nftTrace.filter((c) => c.tool !== "nft" && c.caller === "dockerd").length);
    expect(nft.failedCalls).toEqual([]);
    expect(nft.explanation).toMatch(
      /^no wrong answers: \d+ iptables calls by dockerd \(and \d+ nft calls\), none failed$/,
    );
  });

  it("dockerd's failed `delete table` clean-up at start is routine; another failed nft load is a finding", () => {
    const cleanup = iptTrace.filter((c) => c.tool === "nft" && c.exitCode !== 0);
    expect(cleanup.length).toBeGreaterThan(0);
    expectEvery(cleanup, (c) => c.stdin?.startsWith("delete table"));
    const analysis = analyseTrace(iptTrace, {});
    expect(analysis.failedCalls.filter((f) => f.rule.startsWith("nft "))).toEqual([]);
    // the iptables backend with upstream 1.8.11 still trusts -C and skips rules
    expect(analysis.skippedRules.length).toBeGreaterThan(0);
    const broken = nftTrace.map((c) =>
      c.tool === "nft" && c.stdin?.includes("table ip docker-bridges {")
        ? { ...c, exitCode: 1, stderr: "Error: Could not process rule: No such file or directory" }
        : c,
    );
    const failed = analyseTrace(broken, {}).failedCalls;
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]?.rule).toBe("nft -f - (table ip docker-bridges {…)");
  });

  it("counts dockerd re-creating its whole table (delete, then the table again with its contents), nothing else", () => {
    expect(analyseTrace(nftTrace, {}).dockerdNftReloads).toBe(0);
    // the iptables backend's start-up `delete table` alone is a clean-up, not a reload
    expect(analyseTrace(iptTrace, {}).dockerdNftReloads).toBe(0);
    const load = nftTrace.find((c) => c.caller === "dockerd" && c.stdin?.includes("table ip docker-bridges {"));
    if (!load?.stdin) throw new Error("the recorded trace has no nft load by dockerd");
    // the shape of moby 29.7.2's reload.nft.gotmpl: declare, delete, then the whole table again
    const reload = {
      ...load,
      startMs: (nftTrace.at(-1)?.endMs ?? 0) + 1000,
      endMs: (nftTrace.at(-1)?.endMs ?? 0) + 1010,
      stdin: `table ip docker-bridges {}\ndelete table ip docker-bridges\n${load.stdin}`,
    };
    expect(reloadsTable(reload)).toBe(true);
    expect(reloadsTable(load)).toBe(false);
    expect(reloadsTable({ stdin: "table ip docker-bridges {}\ndelete table ip docker-bridges\n" })).toBe(false);
    const step = { name: "after nft flush ruleset: docker network rm", startedAtMs: reload.startMs - 5, ms: 50 };
    const analysis = analyseTrace([...nftTrace, reload], { steps: [step] });
    expect(analysis.dockerdNftReloads).toBe(1);
    expect(analysis.explanation).toBe(
      "dockerd re-created its whole nftables table 1 time(s), during after nft flush ruleset: docker network rm",
    );
  });
});
