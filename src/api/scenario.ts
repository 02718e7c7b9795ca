import type { Cell } from "../config/expand.js";
import type { IptablesBuild, Settings } from "../config/schema.js";
import type { Host, Peer } from "../harness/host.js";
import type { Step } from "../harness/host-ops.js";
import type { ProbeSpec } from "../assertions/probe.js";
import type { MatchedError } from "../assertions/error-matchers.js";
import type { TargetRecord, UserActionRecord } from "../results/schema.js";
import type { KernelCapability } from "../contract/kernel-capability.js";
import type { NodeNetwork, NodePlan } from "../contract/cluster.js";

/** Another host of a multi-node cell: its own dockerd, steps and workload. */
export interface OtherNode {
  readonly plan: NodePlan;
  readonly host: Host;
  /** what was run on this node, in order */
  readonly steps: Step[];
  /** the workload it runs for the other nodes' probes */
  readonly targets: Target[];
  /** its iptables build, backend and daemon options (the cell's, with its own subnets) */
  readonly current: ScenarioContext["current"];
}

/** The hosts of a multi-node cell as one cluster; ctx.host is node-a, the one the scenario breaks. */
export interface ClusterContext {
  readonly self: NodePlan;
  readonly others: readonly OtherNode[];
  readonly network: NodeNetwork;
  /** the run network's subnet: the hosts' own addresses */
  readonly hostsNetwork: string;
}

/** A workload container the scenario deployed inside the host (its shape: the results schema). */
export type Target = TargetRecord;

export interface ScenarioContext {
  readonly host: Host;
  readonly peer: Peer;
  readonly cell: Cell;
  readonly settings: Settings;
  /** every command run, in order, with its output */
  readonly steps: Step[];
  /** errors captured from commands the scenario expected might fail */
  readonly errors: MatchedError[];
  readonly targets: Target[];
  /** the user's own actions (docker run -p, docker network create) and how each went: judged like a vantage */
  readonly userActions: UserActionRecord[];
  /** iptables builds present in the host, for fixes that switch builds */
  readonly builds: readonly IptablesBuild[];
  /** the iptables build, backend and daemon options in force now (fixes change them) */
  current: { build: IptablesBuild; backend: "nft" | "legacy"; daemonOptions: Record<string, unknown> };
  /** rule set snapshot taken just before the scenario breaks the host */
  rulesBeforeBreak?: string;
  /** `nft list ruleset` at the same moment, where the host has nftables */
  nftRulesBeforeBreak?: string;
  /** a multi-node cell (topology nodes > 1): the other nodes, joined to this one */
  readonly cluster?: ClusterContext;
}

/** Another node's own view of the scenario's context: its host, steps, targets and settings. */
export const onNode = (ctx: ScenarioContext, node: OtherNode): ScenarioContext => ({
  ...ctx,
  host: node.host,
  steps: node.steps,
  targets: node.targets,
  current: node.current,
});

/**
 * Something that happens to the host after a fix, which a lasting fix must survive (a
 * kernel-parameter reload, a reboot's service start): each fix attempt is probed once more
 * after it, and judged again.
 */
export interface LaterEvent {
  /** what happens, e.g. "kernel-parameter reload (sysctl --system)" */
  readonly name: string;
  happen(ctx: ScenarioContext): Promise<void>;
}

interface ScenarioBehaviour {
  readonly name: string;
  readonly description: string;
  /**
   * runs in the fresh host before dockerd's first start, where a boot-time service or an image's
   * entrypoint would; it may change ctx.current (the iptables build and backend dockerd gets)
   */
  beforeEngine?(ctx: ScenarioContext, variant: string | undefined): Promise<void>;
  /** the kernel's legacy xtables tables are needed: the dind lane runs the cell only where this machine's kernel has them */
  needsLegacyXtables?(variant: string | undefined): boolean;
  /** deploys the healthy state, then breaks the host the way the field report describes */
  setUp(ctx: ScenarioContext, variant: string | undefined): Promise<void>;
  /** after a fix: the user's action that failed, tried again (e.g. `docker run -p`) */
  retry?(ctx: ScenarioContext, variant: string | undefined): Promise<void>;
  probes(ctx: ScenarioContext): ProbeSpec[];
  /** the later event each fix must survive, if the variant has one */
  laterEvent?(variant: string | undefined): LaterEvent | undefined;
  /** the nodes the scenario needs (default 1): a cell whose topology has fewer is a configuration error */
  minNodes?(variant: string | undefined): number;
}

/** A scenario that breaks the host one way: its cells name no variant. */
export interface SingleWayScenario extends ScenarioBehaviour {
  readonly variants: readonly [];
  readonly defaultVariant?: undefined;
}

/**
 * A scenario that can break the host several ways; a cell always names one of them. Its
 * default is the variant a matrix means when it names the scenario alone (the cell id then
 * names it): without one it does not compile.
 */
export interface VariedScenario extends ScenarioBehaviour {
  readonly variants: readonly [string, ...string[]];
  readonly defaultVariant: string;
}

export type Scenario = SingleWayScenario | VariedScenario;

/** A table's keys as a scenario's variants (a table of variants has at least one). */
export function variantsOf(table: Readonly<Record<string, unknown>>): [string, ...string[]] {
  const [first, ...rest] = Object.keys(table);
  if (first === undefined) throw new Error("a scenario's table of variants is empty");
  return [first, ...rest];
}

/** The entry of a scenario's table of variants that `variant` names; an unknown name is a harness error naming the scenario. */
export function variantEntry<T>(scenario: string, table: Readonly<Record<string, T>>, variant: string | undefined): T {
  const entry = variant === undefined ? undefined : table[variant];
  if (entry === undefined) throw new Error(`${scenario} has no variant '${variant}'`);
  return entry;
}

export type FixOutcome = { applied: true; note?: string } | { applied: false; reason: string };

/** What a fix can know before any host starts: the cell, the builds and the settings the host will start with. */
export type FixStart = Pick<ScenarioContext, "cell" | "builds" | "current"> & {
  /** the kernel the host will run on, where it is known before the host starts: this machine's, which every dind host shares (a VM's guest kernel is read only once it runs) */
  readonly sharedKernel?: KernelCapability;
};

export interface Fix {
  readonly name: string;
  readonly description: string;
  /**
   * Why the fix cannot apply to the cell as configured, known before any host starts (apply
   * says the same on a fresh host): the attempt is recorded not-applicable without one.
   */
  notApplicable?(start: FixStart): string | undefined;
  apply(ctx: ScenarioContext): Promise<FixOutcome>;
}
