import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { expandMatrix, namesOf } from "../../src/config/expand.js";
import { parseMatrixText } from "../../src/config/load.js";
import { KNOWN_NAMES } from "../../src/run/registry.js";
import { expectEvery } from "../support/quantifiers.js";
import {
  cidrsOverlap,
  clusterAdmissionScript,
  clusterRoutes,
  hostSources,
  joinClusterScript,
  MAX_NODES,
  nodePlan,
  nodeSubnets,
  type ClusterMember,
} from "../../src/contract/cluster.js";
import { INNER_ADDRESSES } from "../../src/harness/host-ops.js";
import { crossReferenceProblems, type KnownNames } from "../../src/config/cross-references.js";
import { matrixFileSchema, type MatrixFile } from "../../src/config/schema.js";
import { nodeDaemonOptions } from "../../src/run/cluster.js";
import { FOREIGN } from "../../scenarios/lib/foreign-network.js";

const members: ClusterMember[] = [
  { plan: nodePlan(0), address: "172.20.0.2" },
  { plan: nodePlan(1), address: "172.20.0.3" },
];

describe("subnet allocation", () => {
  it("node-a keeps the single host's addresses, so its rules read as a one-node cell's", () => {
    const a = nodePlan(0);
    expect(a.name).toBe("node-a");
    expect({ bip: a.bip, "default-address-pools": [{ base: a.pool, size: 24 }] }).toEqual(INNER_ADDRESSES);
  });

  it("no two nodes' subnets overlap, nor any with the foreign bridge's addresses", () => {
    const plans = Array.from({ length: MAX_NODES }, (_, i) => nodePlan(i));
    const subnets = plans.flatMap((p) => nodeSubnets(p).map((s) => ({ node: p.name, s })));
    expect(subnets).toHaveLength(2 * MAX_NODES);
    const clashes = subnets.flatMap((x, i) =>
      subnets.slice(i + 1).flatMap((y) => (cidrsOverlap(x.s, y.s) ? [`${x.node} ${x.s} ~ ${y.node} ${y.s}`] : [])),
    );
    expect(clashes).toEqual([]);
    const foreign = [FOREIGN.gateway, FOREIGN.uplink.hostSide];
    expect(subnets.filter((x) => foreign.some((f) => cidrsOverlap(x.s, f)))).toEqual([]);
    expect(new Set(plans.map((p) => p.vtepMac)).size).toBe(MAX_NODES);
  });

  it("the overlap check itself tells overlapping from adjacent subnets", () => {
    expect(cidrsOverlap("10.78.0.0/16", "10.78.5.0/24")).toBe(true);
    expect(cidrsOverlap("10.77.0.0/24", "10.77.1.0/24")).toBe(false);
    expect(cidrsOverlap("10.77.0.0/24", "10.77.0.128/25")).toBe(true);
    expect(() => cidrsOverlap("10.77.0/24", "10.0.0.0/8")).toThrow(/not an IPv4 CIDR/);
  });

  it("refuses a node beyond the address plan", () => {
    expect(() => nodePlan(MAX_NODES)).toThrow(/at most/);
  });
});

describe("route computation", () => {
  it("host-gw: each other node's subnets via its run-network address", () => {
    expect(clusterRoutes(members, 0, "host-gw")).toEqual([
      { subnet: "10.79.0.0/24", via: "172.20.0.3" },
      { subnet: "10.80.0.0/16", via: "172.20.0.3" },
    ]);
    expect(clusterRoutes(members, 1, "host-gw")).toEqual([
      { subnet: "10.77.0.0/24", via: "172.20.0.2" },
      { subnet: "10.78.0.0/16", via: "172.20.0.2" },
    ]);
  });

  it("vxlan: each other node's subnets via its VXLAN address on the overlay device", () => {
    expect(clusterRoutes(members, 0, "vxlan")).toEqual([
      { subnet: "10.79.0.0/24", via: "10.79.0.0", dev: "fwc-vxlan0" },
      { subnet: "10.80.0.0/16", via: "10.79.0.0", dev: "fwc-vxlan0" },
    ]);
  });

  it("the join script knows every other node's VXLAN MAC and address without asking it", () => {
    const script = joinClusterScript(members, 0, "vxlan");
    expect(script).toContain(
      "link add fwc-vxlan0 address 02:fc:00:00:00:01 type vxlan id 1 local 172.20.0.2 dev eth0 dstport 8472",
    );
    expect(script).toContain("neigh replace 10.79.0.0 lladdr 02:fc:00:00:00:02 dev fwc-vxlan0");
    expect(script).toContain("bridge fdb append 02:fc:00:00:00:02 dev fwc-vxlan0 dst 172.20.0.3");
    expect(script).toContain("route replace 10.80.0.0/16 via 10.79.0.0 dev fwc-vxlan0 onlink");
    const hostGw = joinClusterScript(members, 1, "host-gw");
    expect(hostGw).not.toContain("vxlan");
    expect(hostGw).toContain("route replace 10.77.0.0/24 via 172.20.0.2");
    expect(() => joinClusterScript(members, 2, "vxlan")).toThrow(/not a member/);
  });

  it("the hosts' sources are the run network, and with vxlan the nodes' VXLAN addresses, never a container subnet", () => {
    const plans = members.map((m) => m.plan);
    expect(hostSources("172.20.0.0/16", plans, "host-gw")).toEqual(["172.20.0.0/16"]);
    const vxlan = hostSources("172.20.0.0/16", plans, "vxlan");
    expect(vxlan).toEqual(["172.20.0.0/16", "10.77.0.0/32", "10.79.0.0/32"]);
    expect(vxlan.filter((s) => cidrsOverlap(s, "10.77.0.2/32") || cidrsOverlap(s, "10.79.0.2/32"))).toEqual([]);
  });

  it("the admission of other nodes' traffic: DOCKER-USER with iptables, a mark with nftables", () => {
    expect(clusterAdmissionScript(nodePlan(1), "vxlan", false)).toContain(
      "iptables -w -I DOCKER-USER -i fwc-vxlan0 -d 10.80.0.0/16 -j ACCEPT",
    );
    const nft = clusterAdmissionScript(nodePlan(1), "host-gw", true);
    expect(nft).toContain(
      'iifname { "eth0" } ip daddr { 10.79.0.0/24, 10.80.0.0/16 } meta mark set meta mark or 0x1f00',
    );
    expect(nft).not.toContain("DOCKER-USER");
  });
});

describe("a node's daemon options", () => {
  const engine = (version: string) => ({
    name: `docker-${version}`,
    version,
    source: { kind: "debian" as const, suite: "trixie" as const, version },
  });
  const topology = (nodes: number) => ({
    name: "t",
    bridges: 1,
    containersPerBridge: 1,
    basePort: 8080,
    nodes,
    nodeNetwork: "vxlan" as const,
  });

  it("a one-node cell keeps the cell's options as they are", () => {
    expect(
      nodeDaemonOptions({ engine: engine("28.5.2"), topology: topology(1) }, { "userland-proxy": false }, nodePlan(0)),
    ).toEqual({
      "userland-proxy": false,
    });
  });

  it("a node gets its own subnets, direct routing from 28.2, the accept mark only with 29's nftables backend", () => {
    const b = nodePlan(1);
    const on = (version: string, base: Record<string, unknown>) =>
      nodeDaemonOptions({ engine: engine(version), topology: topology(2) }, base, b);
    expect(on("26.1.5", {})).toEqual({
      bip: "10.79.0.1/24",
      "default-address-pools": [{ base: "10.80.0.0/16", size: 24 }],
    });
    expect(on("28.5.2", {})["allow-direct-routing"]).toBe(true);
    expect(on("28.1.1", {})["allow-direct-routing"]).toBeUndefined();
    expect(on("29.7.2", { "firewall-backend": "iptables" })["bridge-accept-fwmark"]).toBeUndefined();
    expect(on("29.7.2", { "firewall-backend": "nftables" })["bridge-accept-fwmark"]).toBe("0x1f00/0x1f00");
  });
});

describe("matrices with nodes", () => {
  const known: KnownNames = {
    scenarios: new Map([
      ["snat-lost", { variants: [], minNodes: () => 2 }],
      ["curl-timeout", { variants: [] }],
    ]),
    fixes: new Set(),
    catalogue: { iptables: [], engines: [] } as unknown as KnownNames["catalogue"],
  };
  const matrix = (nodes: number, provider: string[], scenario: string): MatrixFile => {
    const parsed = matrixFileSchema.parse({
      version: 1,
      iptables: [{ name: "b", version: "1.8.11", source: { kind: "debian", suite: "trixie", version: "1.8.11-2" } }],
      engines: [{ name: "e", version: "28.5.2", source: { kind: "debian", suite: "trixie", version: "28.5.2" } }],
      daemon: [{ name: "d", options: {} }],
      topologies: [{ name: "t", bridges: 1, basePort: 8080, nodes }],
      matrix: [{ provider, engine: ["e"], iptables: ["b"], daemon: ["d"], topology: ["t"], scenario: [scenario] }],
    });
    return parsed as MatrixFile;
  };

  it("a scenario that needs two nodes on a one-node topology is a problem that says what to set", () => {
    expect(crossReferenceProblems(matrix(1, ["dind"], "snat-lost"), known).map((p) => p.message)).toEqual([
      "scenario 'snat-lost' needs 2 nodes; topology 't' has 1 (set nodes: 2)",
    ]);
    expect(crossReferenceProblems(matrix(2, ["dind"], "snat-lost"), known)).toEqual([]);
    expect(crossReferenceProblems(matrix(1, ["dind"], "curl-timeout"), known)).toEqual([]);
  });

  it("multi-node cells are for the dind lane only", () => {
    expect(crossReferenceProblems(matrix(2, ["dind", "vagrant"], "curl-timeout"), known).map((p) => p.message)).toEqual(
      ["topology 't' has 2 nodes: multi-node cells run in the dind lane only"],
    );
  });

  it("nodes defaults to 1 and the node network to vxlan; more than the address plan holds is refused", () => {
    expect(matrix(1, ["dind"], "curl-timeout").topologies[0]).toMatchObject({ nodes: 1, nodeNetwork: "vxlan" });
    expect(() => matrix(MAX_NODES + 1, ["dind"], "curl-timeout")).toThrow(/at most/);
  });
});

describe("matrix.multinode.yaml and its expectations", () => {
  const read = (name: string) => readFileSync(new URL(`../../${name}`, import.meta.url), "utf8");
  const cells = () =>
    expandMatrix(parseMatrixText(read("matrix.multinode.yaml"), "matrix.multinode.yaml", KNOWN_NAMES));

  it("runs both scenarios on 26.1.5, 28.5.2 and 29.7.2 (both firewall backends), each on two nodes in the dind lane", () => {
    const all = cells();
    expect(all.map((c) => `${c.scenario}:${c.variant ?? ""} ${c.engine.name} ${c.daemon.name}`).sort()).toEqual(
      [
        "ip-forward-off:cross-node docker-26.1.5 proxy-off",
        "ip-forward-off:cross-node docker-28.5.2 proxy-off",
        "ip-forward-off:cross-node docker-29.7.2 fw-iptables",
        "ip-forward-off:cross-node docker-29.7.2 fw-nftables",
        "snat-lost: docker-26.1.5 proxy-off",
        "snat-lost: docker-28.5.2 proxy-off",
        "snat-lost: docker-29.7.2 fw-iptables",
        "snat-lost: docker-29.7.2 fw-nftables",
      ].sort(),
    );
    expectEvery(all, (c) => c.provider === "dind" && c.topology.nodes === 2, "multi-node cells");
  });

  it("every expectation parses and matches a cell of the matrix it names", async () => {
    const { parseYamlWithSchema } = await import("../../src/config/yaml-schema.js");
    const { expectationsFileSchema, expectationMatches } = await import("../../src/report/gate.js");
    const file = parseYamlWithSchema(
      read("expectations.multinode.yaml"),
      "expectations.multinode.yaml",
      expectationsFileSchema,
    ).data;
    expect(file.matrix).toBe("matrix.multinode.yaml");
    const all = cells();
    expectEvery(file.expectations, (e) => all.some((c) => expectationMatches(e, namesOf(c))), "expectations");
  });

  it("the default matrix runs its 28.5.2 cells, with the same fixes and the same expectations", async () => {
    const { parseYamlWithSchema } = await import("../../src/config/yaml-schema.js");
    const { expectationsFileSchema, expectationMatches } = await import("../../src/report/gate.js");
    const defaults = expandMatrix(parseMatrixText(read("matrix.yaml"), "matrix.yaml", KNOWN_NAMES)).filter(
      (c) => c.topology.nodes > 1,
    );
    const wide = cells().filter((c) => c.engine.name === "docker-28.5.2");
    expect(defaults.map((c) => [c.id, c.fixes])).toEqual(wide.map((c) => [c.id, c.fixes]));
    expect(defaults.map((c) => c.id)).toEqual([
      "ip-forward-off+cross-node__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__2-nodes",
      "snat-lost__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__2-nodes",
    ]);
    const expected = (file: string) => (cell: (typeof defaults)[number]) =>
      parseYamlWithSchema(read(file), file, expectationsFileSchema)
        .data.expectations.filter((e) => expectationMatches(e, namesOf(cell)))
        .map(({ expect, fixes, fixesAfterEvent }) => ({ expect, fixes, fixesAfterEvent }));
    for (const cell of defaults) {
      const own = expected("expectations.yaml")(cell);
      expect(own, cell.id).toHaveLength(1);
      expect(own).toEqual(expected("expectations.multinode.yaml")(cell));
    }
  });
});
