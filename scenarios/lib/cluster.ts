import {
  admitOnlyHostsScript,
  hostSources,
  containerPingCommand,
  containerProbeCommand,
  mustStep,
  NODE_SERVICE,
  NODE_SERVICE_PATH,
  nodeServiceScript,
  onNode,
  runSteps,
  WORKLOAD_ID_PATH,
} from "../../src/api/index.js";
import type { ClusterContext, OtherNode, ProbeSpec, ScenarioContext, Target } from "../../src/api/index.js";
import { describeTarget, workloadRunCommand } from "./topology.js";

/** The cluster of a multi-node cell; a scenario that needs one says so with minNodes, so its absence is a harness error. */
export function clusterOf(ctx: ScenarioContext): ClusterContext {
  if (!ctx.cluster) throw new Error(`${ctx.cell.scenario} needs a topology with nodes: 2 or more`);
  return ctx.cluster;
}

/** The workload container another node runs for node-a's probes. */
export const nodeWorkload = (node: OtherNode) => `${node.plan.name}-web`;

/**
 * What the other nodes run for node-a's probes: a service of the host itself (busybox httpd
 * answering the node's name) and a published workload container on the default bridge.
 */
export async function deployOtherNodes(ctx: ScenarioContext): Promise<void> {
  const { others } = clusterOf(ctx);
  await Promise.all(
    others.map(async (node) => {
      const name = nodeWorkload(node);
      await runSteps(node.host, node.steps, [
        { name: `${node.plan.name}: a service of the host itself`, script: nodeServiceScript(node.plan) },
        {
          name: `${node.plan.name}: run ${name}`,
          script: workloadRunCommand(name, undefined, ctx.cell.topology.basePort),
          policy: "engine",
        },
      ]);
      node.targets.push(await describeTarget(onNode(ctx, node), name, ctx.cell.topology.basePort));
    }),
  );
}

/** The node network's hardening on every other node: only the hosts' own addresses get in or through. */
export async function admitOnlyHostsOnOtherNodes(ctx: ScenarioContext): Promise<void> {
  const { self, others, hostsNetwork, network } = clusterOf(ctx);
  const admitted = hostSources(hostsNetwork, [self, ...others.map((o) => o.plan)], network);
  await Promise.all(
    others.map((node) =>
      mustStep(
        node.host,
        node.steps,
        `${node.plan.name}: admit only the hosts' network (${admitted.join(", ")})`,
        admitOnlyHostsScript(admitted, network),
      ),
    ),
  );
}

const gateway = (bip: string) => bip.split("/")[0] ?? bip;

/** node-a's first container on the default bridge and on the first user network: where its cross-node traffic starts. */
function sources(ctx: ScenarioContext): Target[] {
  const firstPerNetwork = ctx.targets.filter((t, i) => ctx.targets.findIndex((u) => u.network === t.network) === i);
  return firstPerNetwork.slice(0, 2);
}

/**
 * Traffic between nodes, as the field report's cluster saw it. From node-a's containers
 * (default bridge, first user network): to each other node's container by its address, over
 * HTTP and ICMP, and to that node's docker0 address by ICMP (the report: "even docker0's
 * address did not answer"), all cross-node; to a service of the other node's host itself,
 * behind its own firewall, over HTTP and ICMP, and with vxlan over HTTP by its overlay address
 * too (to-other-node). From each other node's container
 * back to node-a's first container (cross-node, run on that node). Every one must answer.
 */
export function crossNodeProbes(ctx: ScenarioContext): ProbeSpec[] {
  const cluster = ctx.cluster;
  if (!cluster) return [];
  const self = cluster.self.name;
  const from = sources(ctx);
  const specs: ProbeSpec[] = [];
  for (const node of cluster.others) {
    const remote = node.targets.find((t) => t.container === nodeWorkload(node));
    const peerName = node.plan.name;
    for (const source of from) {
      const origin = `${self}/${source.network}/${source.container}`;
      if (remote) {
        specs.push(
          {
            vantage: "cross-node",
            target: `${origin} -> ${peerName}/${remote.container} ${remote.ip}:80`,
            command: (ms) => containerProbeCommand(source.container, `http://${remote.ip}${WORKLOAD_ID_PATH}`, ms),
            expectAnswer: remote.container,
            expect: "reachable",
          },
          {
            vantage: "cross-node",
            target: `${origin} -> ${peerName}/${remote.container} (ping)`,
            command: (ms) => containerPingCommand(source.container, remote.ip, remote.container, ms),
            expectAnswer: remote.container,
            expect: "reachable",
          },
        );
      }
      specs.push(
        {
          vantage: "cross-node",
          target: `${origin} -> ${peerName}/docker0 ${gateway(node.plan.bip)} (ping)`,
          command: (ms) => containerPingCommand(source.container, gateway(node.plan.bip), `${peerName}-docker0`, ms),
          expectAnswer: `${peerName}-docker0`,
          expect: "reachable",
        },
        {
          vantage: "to-other-node",
          target: `${origin} -> ${peerName} host :${NODE_SERVICE.port}`,
          command: (ms) =>
            containerProbeCommand(
              source.container,
              `http://${node.host.address}:${NODE_SERVICE.port}${NODE_SERVICE_PATH}`,
              ms,
            ),
          expectAnswer: peerName,
          expect: "reachable",
        },
        ...(cluster.network === "vxlan"
          ? [
              {
                vantage: "to-other-node" as const,
                target: `${origin} -> ${peerName} host by its overlay address ${node.plan.vtep}:${NODE_SERVICE.port}`,
                command: (ms: number) =>
                  containerProbeCommand(
                    source.container,
                    `http://${node.plan.vtep}:${NODE_SERVICE.port}${NODE_SERVICE_PATH}`,
                    ms,
                  ),
                expectAnswer: peerName,
                expect: "reachable" as const,
              },
            ]
          : []),
        {
          vantage: "to-other-node",
          target: `${origin} -> ${peerName} host (ping)`,
          command: (ms) => containerPingCommand(source.container, node.host.address, `${peerName}-host`, ms),
          expectAnswer: `${peerName}-host`,
          expect: "reachable",
        },
      );
    }
    const back = from[0];
    if (remote && back) {
      specs.push({
        vantage: "cross-node",
        target: `${peerName}/${remote.network}/${remote.container} -> ${self}/${back.container} ${back.ip}:80`,
        command: (ms) => containerProbeCommand(remote.container, `http://${back.ip}${WORKLOAD_ID_PATH}`, ms),
        expectAnswer: back.container,
        expect: "reachable",
        node: peerName,
      });
    }
  }
  return specs;
}
