import { engineHas } from "../config/engine-features.js";
import type { TargetRecord } from "../results/schema.js";
import { hasRule, parseIptablesSave, RuleSetParseError } from "./iptables-save.js";

/** What the expected rules depend on: a deployed target's network facts. */
export type BridgeFacts = Pick<TargetRecord, "bridge" | "subnet" | "ip" | "hostPort">;

interface ExpectedRule {
  table: string;
  chain: string;
  spec: string;
}

export type EngineGeneration = "29+" | "28+" | "pre-28";

/**
 * Engine generations differ in where per-bridge rules live: 28.x added DOCKER-FORWARD/-BRIDGE/-CT;
 * 29.x dropped the DOCKER-ISOLATION chains (isolation is `DOCKER ! -i br -o br -j DROP` plus the
 * raw table's direct-access drops) and brought the nftables firewall backend.
 *
 * "pre-28" reaches back to Debian 12's 20.10.24, measured rather than assumed: on the same host
 * (default bridge and 3 user bridges, a published port each, iptables 1.8.9 nft, userland-proxy
 * off and on) 20.10.24 leaves exactly 26.1.5's rules, in the same order, so one set of goldens
 * serves both (test/fixtures/iptables-save/docker-20.10.24_1.8.9-nft_3-bridges_healthy.txt). What
 * differs is how the rules are written, seen in the shim's trace: 20.10.24 calls iptables without
 * `-t filter` for the per-bridge FORWARD rules and removes the intra-bridge DROP with `-D` outright,
 * where 26.1.5 first asks `-C FORWARD -i br -o br -j DROP` (an interface-sensitive `-C`), and
 * 26.1.5 writes the embedded DNS rules from dockerd itself (20.10.24 from a re-executed helper).
 */
export function engineGeneration(engineVersion: string): EngineGeneration {
  if (engineHas(engineVersion, "isolationInDockerChain")) return "29+";
  return engineHas(engineVersion, "forwardChains") ? "28+" : "pre-28";
}

/**
 * The rule layout a healthy host of this engine shows, finer than the generation where releases
 * of one generation write the same rules differently: 28.0.1-28.1.x have Docker's own `-j RETURN`
 * in DOCKER-USER and a raw-table direct-access DROP per published port; 28.2.0-28.2.1 still have
 * the RETURN but drop per container; "28+" is 28.2.2 up to 29. Goldens are kept per layout.
 * (The boundaries are ENGINE_FEATURES' directAccessDropPerContainer and dockerUserWithoutReturn.)
 */
export type RuleLayout = EngineGeneration | "28.0-28.1" | "28.2.0-28.2.1";

export function ruleLayout(engineVersion: string): RuleLayout {
  const generation = engineGeneration(engineVersion);
  if (generation !== "28+" || engineHas(engineVersion, "dockerUserWithoutReturn")) return generation;
  return engineHas(engineVersion, "directAccessDropPerContainer") ? "28.2.0-28.2.1" : "28.0-28.1";
}

function perBridge(bridge: string, subnet: string, generation: EngineGeneration): ExpectedRule[] {
  const filter = (chain: string, spec: string) => ({ table: "filter", chain, spec });
  const masquerade = { table: "nat", chain: "POSTROUTING", spec: `-s ${subnet} ! -o ${bridge} -j MASQUERADE` };
  const common = [
    filter("DOCKER-ISOLATION-STAGE-1", `-i ${bridge} ! -o ${bridge} -j DOCKER-ISOLATION-STAGE-2`),
    filter("DOCKER-ISOLATION-STAGE-2", `-o ${bridge} -j DROP`),
    masquerade,
  ];
  // 28.x and later: per-bridge rules in the DOCKER-BRIDGE / DOCKER-CT / DOCKER-FORWARD chains.
  const dockerForward = [
    filter("DOCKER-BRIDGE", `-o ${bridge} -j DOCKER`),
    filter("DOCKER-CT", `-o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`),
    filter("DOCKER-FORWARD", `-i ${bridge} -j ACCEPT`),
  ];
  if (generation === "29+")
    return [...dockerForward, filter("DOCKER", `! -i ${bridge} -o ${bridge} -j DROP`), masquerade];
  if (generation === "28+") return [...dockerForward, ...common];
  return [
    filter("FORWARD", `-o ${bridge} -j DOCKER`),
    filter("FORWARD", `-o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`),
    filter("FORWARD", `-i ${bridge} ! -o ${bridge} -j ACCEPT`),
    filter("FORWARD", `-i ${bridge} -o ${bridge} -j ACCEPT`),
    ...common,
  ];
}

function perPublishedPort(t: BridgeFacts, generation: EngineGeneration): ExpectedRule[] {
  if (t.hostPort === undefined) return [];
  const accept = {
    table: "filter",
    chain: "DOCKER",
    spec: `-d ${t.ip}/32 ! -i ${t.bridge} -o ${t.bridge} -p tcp -m tcp --dport 80 -j ACCEPT`,
  };
  if (generation !== "29+") return [accept];
  return [
    accept,
    { table: "nat", chain: "DOCKER", spec: `-p tcp -m tcp --dport ${t.hostPort} -j DNAT --to-destination ${t.ip}:80` },
    { table: "raw", chain: "PREROUTING", spec: `-d ${t.ip}/32 ! -i ${t.bridge} -j DROP` },
  ];
}

/**
 * Rules a healthy host of this engine generation has for the deployed bridges and
 * published ports, and which of them the actual `iptables-save` lacks (named one per line).
 */
export function missingRules(saveText: string, targets: readonly BridgeFacts[], engineVersion: string): string[] {
  let rules;
  try {
    rules = parseIptablesSave(saveText);
  } catch (error) {
    if (error instanceof RuleSetParseError) return [`(rule set unreadable: ${error.message})`];
    throw error;
  }
  const generation = engineGeneration(engineVersion);
  const bridges = new Map(targets.map((t) => [t.bridge, t.subnet]));
  const expected = [
    ...[...bridges].flatMap(([bridge, subnet]) => perBridge(bridge, subnet, generation)),
    ...targets.flatMap((t) => perPublishedPort(t, generation)),
  ];
  return expected
    .filter((r) => !hasRule(rules, r.table, r.chain, r.spec))
    .map((r) => `${r.table} ${r.chain} ${r.spec}`);
}
