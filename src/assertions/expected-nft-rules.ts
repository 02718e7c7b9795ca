import { NFT_ABSENT } from "../contract/host-contract.js";
import type { BridgeFacts } from "./expected-rules.js";
import { parseNftRuleset, NftParseError, type NftRuleset } from "./nft-ruleset.js";

/** Docker 29's nftables firewall backend keeps all its IPv4 rules in this table. */
export const DOCKER_NFT_TABLE = "ip docker-bridges";

type Expected =
  | { kind: "base-chain"; chain: string; hook: string }
  | { kind: "rule"; chain: string; rule: string }
  | { kind: "element"; map: string; element: string };

/** The hooked chains that send packets into Docker's per-bridge chains; without them nothing of the table applies. */
const BASE_CHAINS: Expected[] = [
  { kind: "base-chain", chain: "filter-FORWARD", hook: "hook forward" },
  { kind: "base-chain", chain: "nat-PREROUTING", hook: "hook prerouting" },
  { kind: "base-chain", chain: "nat-OUTPUT", hook: "hook output" },
  { kind: "base-chain", chain: "nat-POSTROUTING", hook: "hook postrouting" },
  { kind: "base-chain", chain: "raw-PREROUTING", hook: "hook prerouting" },
  { kind: "rule", chain: "filter-FORWARD", rule: "oifname vmap @filter-forward-in-jumps" },
  { kind: "rule", chain: "filter-FORWARD", rule: "iifname vmap @filter-forward-out-jumps" },
  { kind: "rule", chain: "nat-PREROUTING", rule: "fib daddr type local jump nat-prerouting-and-output" },
  { kind: "rule", chain: "nat-OUTPUT", rule: "fib daddr type local jump nat-prerouting-and-output" },
];

function perBridge(bridge: string, subnet: string): Expected[] {
  const jumps = (direction: string) => ({
    kind: "element" as const,
    map: `${direction}-jumps`,
    element: `"${bridge}" : jump ${direction}__${bridge}`,
  });
  return [
    jumps("filter-forward-in"),
    jumps("filter-forward-out"),
    jumps("nat-postrouting-in"),
    jumps("nat-postrouting-out"),
    { kind: "rule", chain: `filter-forward-in__${bridge}`, rule: "ct state established,related accept" },
    { kind: "rule", chain: `filter-forward-out__${bridge}`, rule: `accept comment "OUTGOING"` },
    {
      kind: "rule",
      chain: `nat-postrouting-out__${bridge}`,
      rule: `oifname != "${bridge}" ip saddr ${subnet} masquerade comment "MASQUERADE"`,
    },
  ];
}

function perPublishedPort(t: BridgeFacts): Expected[] {
  if (t.hostPort === undefined) return [];
  return [
    {
      kind: "rule",
      chain: "nat-prerouting-and-output",
      rule: `tcp dport ${t.hostPort} dnat to ${t.ip}:80 comment "DNAT"`,
    },
    { kind: "rule", chain: `filter-forward-in__${t.bridge}`, rule: `ip daddr ${t.ip} tcp dport 80 accept` },
    {
      kind: "rule",
      chain: "raw-PREROUTING",
      rule: `ip daddr ${t.ip} iifname != "${t.bridge}" drop comment "DROP DIRECT ACCESS"`,
    },
  ];
}

function present(ruleset: NftRuleset, e: Expected): boolean {
  const table = ruleset.get(DOCKER_NFT_TABLE);
  if (!table) return false;
  if (e.kind === "element") return table.maps.get(e.map)?.includes(e.element) ?? false;
  const chain = table.chains.get(e.chain);
  if (e.kind === "base-chain") return chain?.hook?.includes(e.hook) ?? false;
  return chain?.rules.includes(e.rule) ?? false;
}

const describe = (e: Expected) =>
  e.kind === "element"
    ? `${DOCKER_NFT_TABLE} map ${e.map} ${e.element}`
    : e.kind === "base-chain"
      ? `${DOCKER_NFT_TABLE} base chain ${e.chain} (${e.hook})`
      : `${DOCKER_NFT_TABLE} ${e.chain} ${e.rule}`;

/**
 * What Docker 29's nftables backend keeps for the deployed bridges and published ports
 * (read from real hosts), and which of it `nft list ruleset` lacks, one line each.
 */
export function missingNftRules(rulesetText: string, targets: readonly BridgeFacts[]): string[] {
  // nothing to compare with: saying which rules are missing would claim what nobody read
  if (rulesetText === NFT_ABSENT) return [`(${NFT_ABSENT})`];
  let ruleset: NftRuleset;
  try {
    ruleset = parseNftRuleset(rulesetText);
  } catch (error) {
    if (error instanceof NftParseError) return [`(nft ruleset unreadable: ${error.message})`];
    throw error;
  }
  if (!ruleset.has(DOCKER_NFT_TABLE)) return [`table ${DOCKER_NFT_TABLE} (Docker's whole nftables rule set)`];
  const bridges = new Map(targets.map((t) => [t.bridge, t.subnet]));
  const expected = [
    ...BASE_CHAINS,
    ...[...bridges].flatMap(([bridge, subnet]) => perBridge(bridge, subnet)),
    ...targets.flatMap(perPublishedPort),
  ];
  return expected.filter((e) => !present(ruleset, e)).map(describe);
}
