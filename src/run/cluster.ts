import type { ClusterContext, OtherNode, ScenarioContext } from "../api/scenario.js";
import type { Cell } from "../config/expand.js";
import { engineHas } from "../config/engine-features.js";
import {
  CLUSTER_ACCEPT_MARK,
  clusterAdmissionScript,
  HOSTS_NETWORK_READ,
  IP_FORWARD_READ,
  joinClusterScript,
  KEEP_ONLY_NET_SYSCTL_FILES,
  nodeAddressOptions,
  nodePlan,
  nodeSubnets,
  ROUTES_READ,
  type ClusterMember,
  type NodePlan,
} from "../contract/cluster.js";
import { SYSCTL } from "../contract/host-commands.js";
import type { Host } from "../harness/host.js";
import { mustStep, runSteps } from "../harness/host-ops.js";
import { READS, readHost, type HostRead } from "../harness/host-reads.js";
import type { ClusterNodeRecord } from "../results/schema.js";
import { analyseTrace } from "../assertions/attribution.js";
import { nameBridges } from "../assertions/bridge-names.js";
import { tryParseIptablesSave } from "../assertions/iptables-save.js";
import { parseTrace } from "../assertions/trace.js";

/** How many hosts the cell runs on. */
export const nodeCount = (cell: Pick<Cell, "topology">): number => cell.topology.nodes;

const usesNftablesBackend = (options: Record<string, unknown>) => options["firewall-backend"] === "nftables";

/**
 * A node's daemon options: the cell's, with the node's own subnets and what Docker needs to let
 * the other nodes reach its containers by address (allow-direct-routing where the engine drops
 * such packets otherwise; with the nftables backend, the mark the cluster's admission sets).
 */
export function nodeDaemonOptions(
  cell: Pick<Cell, "engine" | "topology">,
  base: Record<string, unknown>,
  plan: NodePlan,
): Record<string, unknown> {
  if (nodeCount(cell) < 2) return { ...base };
  const version = cell.engine.version;
  return {
    ...base,
    ...nodeAddressOptions(plan),
    ...(engineHas(version, "allowDirectRouting") ? { "allow-direct-routing": true } : {}),
    ...(usesNftablesBackend(base) && engineHas(version, "bridgeAcceptFwmark")
      ? { "bridge-accept-fwmark": `${CLUSTER_ACCEPT_MARK}/${CLUSTER_ACCEPT_MARK}` }
      : {}),
  };
}

/** The other nodes' hosts, started beside node-a's (each handed to onHost at once, so it is always removed). */
export async function startOtherNodes(
  ctx: Pick<ScenarioContext, "cell" | "current">,
  start: (label: string) => Promise<Host>,
  onHost: (host: Host) => void,
): Promise<OtherNode[]> {
  const plans = Array.from({ length: nodeCount(ctx.cell) - 1 }, (_, i) => nodePlan(i + 1));
  return Promise.all(
    plans.map(async (plan) => {
      const host = await start(plan.name);
      onHost(host);
      return {
        plan,
        host,
        steps: [],
        targets: [],
        current: {
          build: ctx.current.build,
          backend: ctx.current.backend,
          daemonOptions: nodeDaemonOptions(ctx.cell, ctx.cell.daemon.options, plan),
        },
      };
    }),
  );
}

const members = (ctx: ScenarioContext, others: readonly OtherNode[], self: NodePlan): ClusterMember[] => [
  { plan: self, address: ctx.host.address },
  ...others.map((o) => ({ plan: o.plan, address: o.host.address })),
];

/**
 * Joins the nodes once every dockerd runs: on each, only per-namespace kernel-parameter files
 * are kept (a reload must not reach this machine's kernel), the overlay and routes to the
 * other nodes' subnets are set, and the cluster's admission of their traffic is added.
 */
export async function joinCluster(ctx: ScenarioContext, others: readonly OtherNode[]): Promise<ClusterContext> {
  const self = nodePlan(0);
  const network = ctx.cell.topology.nodeNetwork;
  const all = members(ctx, others, self);
  const join = (node: Pick<ScenarioContext, "host" | "steps" | "current">, plan: NodePlan) =>
    runSteps(node.host, node.steps, [
      { name: "keep only per-namespace kernel-parameter files", script: KEEP_ONLY_NET_SYSCTL_FILES },
      { name: `join the cluster (${network})`, script: joinClusterScript(all, plan.index, network) },
      {
        name: "admit the other nodes' traffic to this node's containers",
        script: clusterAdmissionScript(plan, network, usesNftablesBackend(node.current.daemonOptions)),
      },
    ]);
  const [hostsNetwork] = await Promise.all([
    mustStep(ctx.host, ctx.steps, "the hosts' network", HOSTS_NETWORK_READ).then((r) => r.stdout.trim()),
    join(ctx, self),
    ...others.map((o) => join(o, o.plan)),
  ]);
  if (!hostsNetwork) throw new Error("the hosts' network could not be read from node-a's routes");
  return { self, others, network, hostsNetwork };
}

const NODE_READS = {
  routes: { script: ROUTES_READ, parse: (r) => r.stdout } satisfies HostRead<string>,
  ipForward: { script: IP_FORWARD_READ, parse: (r) => r.stdout.trim() } satisfies HostRead<string>,
};

/** What every node holds at probe time: node-a's summary, and the other nodes' rule sets, trace and log besides. */
export async function readNodes(ctx: ScenarioContext): Promise<ClusterNodeRecord[] | undefined> {
  const cluster = ctx.cluster;
  if (!cluster) return undefined;
  const summary = (plan: NodePlan, address: string, read: { routes: string; ipForward: string }) => ({
    name: plan.name,
    address,
    subnets: nodeSubnets(plan),
    routes: read.routes,
    sysctls: { [SYSCTL.ipForward]: read.ipForward },
  });
  const [own, ...others] = await Promise.all([
    readHost(ctx.host, NODE_READS),
    ...cluster.others.map((o) =>
      readHost(o.host, {
        ...NODE_READS,
        final: READS.iptablesSave,
        nftFinal: READS.nftRuleset,
        trace: READS.iptablesTrace,
        dockerdLog: READS.dockerdLogTail,
      }),
    ),
  ]);
  return [
    summary(cluster.self, ctx.host.address, own),
    ...cluster.others.map((o, i) => {
      const read = others[i] as NonNullable<(typeof others)[number]>;
      const analysis = analyseTrace(parseTrace(read.trace), {
        finalRules: tryParseIptablesSave(read.final),
        steps: o.steps,
      });
      return {
        ...summary(o.plan, o.host.address, read),
        rules: { final: read.final, nftFinal: read.nftFinal },
        trace: { ...analysis, explanation: nameBridges(analysis.explanation, o.targets) },
        traceLog: read.trace,
        dockerdLog: read.dockerdLog,
        targets: o.targets,
        steps: o.steps,
      };
    }),
  ];
}
