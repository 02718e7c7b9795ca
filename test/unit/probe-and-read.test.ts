import { describe, expect, it } from "vitest";
import type { ClusterContext, OtherNode, ScenarioContext } from "../../src/api/scenario.js";
import type { ProbeSpec } from "../../src/assertions/probe.js";
import type { Scenario } from "../../src/api/scenario.js";
import { nodePlan } from "../../src/contract/cluster.js";
import { timerInto } from "../../src/harness/timing.js";
import { newAttempt, probeAndRead, type HostInput } from "../../src/run/attempt.js";
import { answeredBy, FakeHost, probeBatch, probeCommands, timedOut } from "../support/fake-host.js";
import { cellOf, matrix } from "../support/fake-world.js";

type Event = { host: string; what: "probes" | "node-b rules" | "node-a evidence"; phase: "start" | "end" };

/**
 * node-a and node-b of a snat-lost cell: node-b's hardening counts one dropped packet for
 * every probe from node-a's containers once that probe has ended; node-b's own probe back to
 * node-a takes longest. node-a's rule-set read is slow, so it is still running when the probes end.
 */
function cluster() {
  const events: Event[] = [];
  let dropped = 0;
  const hardening = () =>
    `table ip fwc-hardening {\n  chain forward {\n    iifname "fwc-vxlan0" ip saddr != { 172.20.0.0/16 } counter packets ${dropped} bytes ${dropped * 60} drop\n  }\n}\n`;
  const nodeA = new FakeHost(
    "node-a",
    "192.0.2.10",
    { image: "i", label: "a" },
    [
      probeBatch(() => ({ ...timedOut, ms: 40 })),
      { match: /^iptables-save 2>&1$/, answer: { stdout: "*filter\nCOMMIT\n", delayMs: 200 } },
    ],
    {},
  );
  const nodeB = new FakeHost(
    "node-b",
    "192.0.2.11",
    { image: "i", label: "b" },
    [probeBatch(() => answeredBy("n0c1")), { match: /nft list ruleset/, answer: () => ({ stdout: hardening() }) }],
    {},
  );
  const probeDelay = new Map([
    [nodeA, 40],
    [nodeB, 80],
  ]);
  for (const host of [nodeA, nodeB]) {
    const sh = host.sh.bind(host);
    host.sh = async (script: string) => {
      const probes = probeCommands(script).size;
      const what: Event["what"] | undefined =
        probes > 0
          ? "probes"
          : host === nodeB && /nft list ruleset/.test(script)
            ? "node-b rules"
            : host === nodeA && /iptables-save 2>&1/.test(script)
              ? "node-a evidence"
              : undefined;
      if (what) events.push({ host: host.name, what, phase: "start" });
      if (probes > 0) await new Promise((resolve) => setTimeout(resolve, probeDelay.get(host)));
      const result = await sh(script);
      if (host === nodeA && probes > 0) dropped += probes;
      if (what) events.push({ host: host.name, what, phase: "end" });
      return result;
    };
  }
  const cell = cellOf("1.8.11-2");
  const current = { build: cell.iptables, backend: cell.backend, daemonOptions: {} };
  const other: OtherNode = { plan: nodePlan(1), host: nodeB, steps: [], targets: [], current };
  const clusterContext: ClusterContext = {
    self: nodePlan(0),
    others: [other],
    network: "vxlan",
    hostsNetwork: "172.20.0.0/16",
  };
  const ctx: ScenarioContext = {
    host: nodeA,
    peer: { sh: (script) => nodeA.sh(script) },
    cell,
    settings: { ...matrix().settings, probeTimeoutMs: 3000 },
    steps: [],
    errors: [],
    targets: [],
    userActions: [],
    builds: matrix().iptables,
    current,
    cluster: clusterContext,
  };
  return { ctx, events };
}

const fromNodeA = (target: string, url: string): ProbeSpec => ({
  vantage: "cross-node",
  target: `node-a/bridge/n0c1 -> ${target}`,
  command: (ms) => `docker exec n0c1 curl -sS -m ${ms / 1000} ${url}`,
  expectAnswer: "node-b-web",
  expect: "reachable",
});
const specs: ProbeSpec[] = [
  fromNodeA("node-b/node-b-web 10.79.0.2:80", "http://10.79.0.2/cgi-bin/id"),
  fromNodeA("node-b host :7000", "http://192.0.2.11:7000/node"),
  {
    vantage: "cross-node",
    target: "node-b/bridge/node-b-web -> node-a/n0c1 10.77.0.2:80",
    command: (ms) => `docker exec node-b-web curl -sS -m ${ms / 1000} http://10.77.0.2/cgi-bin/id`,
    expectAnswer: "n0c1",
    expect: "reachable",
    node: "node-b",
  },
];

describe("a multi-node attempt's probes and evidence", () => {
  it("reads the other nodes' rule sets once every probe has ended, so their drop counters count the probes' packets", async () => {
    const { ctx, events } = cluster();
    const result = newAttempt("baseline");
    const input = { cell: ctx.cell, scenario: { probes: () => specs } as unknown as Scenario } as HostInput;
    await probeAndRead(ctx, input, result, timerInto(result.timingsMs));

    expect(result.probes.map((p) => [p.target.split(" -> ")[0], p.pass])).toEqual([
      ["node-a/bridge/n0c1", false],
      ["node-a/bridge/n0c1", false],
      ["node-b/bridge/node-b-web", true],
    ]);
    expect(result.nodes?.map((n) => n.name)).toEqual(["node-a", "node-b"]);
    expect(result.nodes?.[1]?.rules?.nftFinal).toMatch(
      /saddr != \{ 172\.20\.0\.0\/16 \} counter packets 2 bytes 120 drop/,
    );

    const at = (what: Event["what"], phase: Event["phase"], host?: string) =>
      events.flatMap((e, i) => (e.what === what && e.phase === phase && (!host || e.host === host) ? [i] : []));
    const probesEnded = at("probes", "end");
    expect(probesEnded).toHaveLength(2);
    const [nodeBRead] = at("node-b rules", "start");
    expect(nodeBRead).toBeGreaterThan(Math.max(...probesEnded));
    // node-a's own evidence is still read beside the probes, and node-b's read does not wait for it
    const [evidenceStart] = at("node-a evidence", "start");
    const [evidenceEnd] = at("node-a evidence", "end");
    expect(evidenceStart).toBeLessThan(Math.min(...probesEnded));
    expect(nodeBRead).toBeLessThan(evidenceEnd ?? -1);
  });
});
