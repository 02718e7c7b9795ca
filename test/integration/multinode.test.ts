import { beforeAll, describe, expect, it } from "vitest";
import type { CellResult } from "../../src/results/schema.js";
import { runCli } from "../support/cli.js";
import { readCells } from "../support/results.js";
import { scratchDir } from "../support/scratch.js";
import { expectEvery } from "../support/quantifiers.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";

// One real run of two multi-node cells on Docker 28.5.2 (test/fixtures/matrices/multinode.yaml):
// forwarding turned off on node-a by a kernel-parameter reload, and node-a's MASQUERADE lost while
// node-b admits only the hosts' network. Each attempt runs on two hosts joined by a VXLAN overlay.
const cells = new Map<string, CellResult>();
let output = "";

const cell = (prefix: string): CellResult => {
  const found = [...cells.values()].find((c) => c.cell.id.startsWith(prefix));
  if (!found)
    throw new Error(`no cell ${prefix}; have ${[...cells.keys()].join(", ")}; output:\n${output.slice(-3000)}`);
  return found;
};
const fix = (r: CellResult, name: string) => {
  const found = r.fixes.find((f) => f.verdict.fix === name);
  if (!found) throw new Error(`${r.cell.id}: no fix ${name}`);
  return found;
};
const probes = (r: CellResult, vantage: string) => r.baseline?.probes.filter((p) => p.vantage === vantage) ?? [];
const fromNodeA = (p: { target: string }) => p.target.startsWith("node-a/");
const FORWARD = "net.ipv4.ip_forward";

beforeAll(async () => {
  const out = await scratchDir("fwcompat-multinode-");
  const run = await runCli(["run", "--matrix", "test/fixtures/matrices/multinode.yaml", "--out", out], {
    timeoutMs: WARM_RUN_MS,
  });
  output = run.stderr;
  expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);
  for (const result of await readCells(out)) cells.set(result.cell.id, result);
}, WARM_RUN_TEST_MS);

describe("two nodes of one cell", () => {
  it("each node has its own subnets, routes to the other's through the overlay, and its evidence kept", () => {
    for (const prefix of ["ip-forward-off+cross-node__", "snat-lost__"]) {
      const nodes = cell(prefix).baseline?.nodes ?? [];
      expect(nodes.map((n) => n.name)).toEqual(["node-a", "node-b"]);
      const [a, b] = nodes;
      expect(a?.subnets).toEqual(["10.77.0.0/24", "10.78.0.0/16"]);
      expect(b?.subnets).toEqual(["10.79.0.0/24", "10.80.0.0/16"]);
      expect(a?.routes).toMatch(/10\.79\.0\.0\/24 via 10\.79\.0\.0 dev fwc-vxlan0/);
      expect(b?.routes).toMatch(/10\.77\.0\.0\/24 via 10\.77\.0\.0 dev fwc-vxlan0/);
      expect(a?.address).not.toBe(b?.address);
      // node-b's own rule set, trace and workload, beside node-a's (the attempt's)
      expect(b?.rules?.final).toMatch(/-A POSTROUTING -s 10\.79\.0\.0\/24 ! -o docker0 -j MASQUERADE/);
      expect(b?.trace?.dockerdCalls).toBeGreaterThan(0);
      expect(b?.targets?.map((t) => t.container)).toEqual(["node-b-web"]);
    }
  });
});

describe("ip-forward-off:cross-node: forwarding off on node-a after a kernel-parameter reload", () => {
  it("node-a's containers reach nothing on node-b (not even its docker0 address), while node-a's own traffic works", () => {
    const result = cell("ip-forward-off+cross-node__");
    expect(result.status).toBe("reproduced");
    expect(result.brokenVantages).toEqual(expect.arrayContaining(["cross-node", "to-other-node"]));
    expect(result.baseline?.nodes?.map((n) => n.sysctls[FORWARD])).toEqual(["0", "1"]);
    expectEvery(probes(result, "cross-node"), (p) => !p.pass, "cross-node probes");
    expectEvery(probes(result, "to-other-node"), (p) => !p.pass, "to-other-node probes");
    expect(probes(result, "cross-node").some((p) => /docker0 .*\(ping\)/.test(p.target))).toBe(true);
    expectEvery(probes(result, "localhost"), (p) => p.pass, "localhost probes");
  });

  it("ip-forward-on repairs the host until the next reload, then it is broken again", () => {
    const { verdict, attempt } = fix(cell("ip-forward-off+cross-node__"), "ip-forward-on");
    expect(verdict.overall).toBe("repaired");
    expect(verdict.afterEvent?.event).toMatch(/sysctl --system/);
    expect(verdict.afterEvent?.overall).toBe("still-broken");
    expect(verdict.afterEvent?.vantages["cross-node"]).toBe("still-broken");
    expect(attempt.afterEvent?.sysctls?.[FORWARD]).toBe("0");
  });

  it("restart-dockerd turns forwarding back on, and the next reload turns it off again", () => {
    const { verdict, attempt } = fix(cell("ip-forward-off+cross-node__"), "restart-dockerd");
    expect(verdict.overall).toBe("repaired");
    expect(attempt.nodes?.[0]?.sysctls[FORWARD]).toBe("1");
    expect(verdict.afterEvent?.overall).toBe("still-broken");
    expect(attempt.afterEvent?.sysctls?.[FORWARD]).toBe("0");
  });

  it("ip-forward-persist (in /etc/sysctl.conf) lasts: the reload applies it after the distribution's file", () => {
    const { verdict, attempt } = fix(cell("ip-forward-off+cross-node__"), "ip-forward-persist");
    expect(verdict.overall).toBe("repaired");
    expect(verdict.afterEvent?.overall).toBe("repaired");
    expect(verdict.afterEvent?.vantages["to-other-node"]).toBe("repaired");
    expect(attempt.afterEvent?.sysctls?.[FORWARD]).toBe("1");
  });
});

describe("snat-lost: node-a loses its MASQUERADE, node-b admits only the hosts' network", () => {
  it("node-a's containers are dropped by node-b; node-b's reach node-a; node-a's own traffic works", () => {
    const result = cell("snat-lost__");
    expect(result.status).toBe("reproduced");
    expect(result.baseline?.rules.beforeBreak).toMatch(/-A POSTROUTING -s 10\.77\.0\.0\/24 ! -o docker0 -j MASQUERADE/);
    expect(result.baseline?.rules.final).not.toMatch(/-A POSTROUTING -s \S+ ! -o \S+ -j MASQUERADE/);
    expectEvery(probes(result, "cross-node").filter(fromNodeA), (p) => !p.pass, "cross-node probes from node-a");
    expectEvery(
      probes(result, "cross-node").filter((p) => !fromNodeA(p)),
      (p) => p.pass,
      "cross-node probes from node-b",
    );
    expectEvery(probes(result, "to-other-node"), (p) => !p.pass, "to-other-node probes");
    for (const vantage of ["localhost", "host-ip", "external"])
      expectEvery(probes(result, vantage), (p) => p.pass, `${vantage} probes`);
    const hardening = result.baseline?.nodes?.[1]?.rules?.nftFinal ?? "";
    expect(hardening).toContain("table ip fwc-hardening");
    expect(hardening).toMatch(/saddr != .* counter packets [1-9]\d* bytes \d+ drop/);
  });

  it("restart-dockerd and masquerade-readd put the MASQUERADE back; recreating the DOCKER chains does not", () => {
    const result = cell("snat-lost__");
    expect(fix(result, "restart-dockerd").verdict.overall).toBe("repaired");
    expect(fix(result, "masquerade-readd").verdict.overall).toBe("repaired");
    expect(fix(result, "masquerade-readd").attempt.rules.final).toMatch(
      /-A POSTROUTING -s 10\.77\.0\.0\/24 ! -o docker0 -j MASQUERADE/,
    );
    const chains = fix(result, "recreate-docker-chains").verdict;
    expect(chains.overall).toBe("still-broken");
    expect(chains.vantages["cross-node"]).toBe("still-broken");
    expect(chains.afterEvent).toBeUndefined();
  });
});
