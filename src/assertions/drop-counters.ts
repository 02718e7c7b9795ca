/**
 * Packet counters of the rules that drop, read from `iptables-save -c` and from
 * `nft list ruleset`, so a probe that timed out can be shown to have been dropped by a rule
 * rather than lost or slow. Chain policies count too where the backend keeps their counters
 * (iptables-legacy does; iptables-nft prints [0:0]). Rejecting rules are left out: a reject
 * answers (refused, unreachable), so it never explains a timeout and must not be counted as
 * if it did.
 */
export type DropCounters = Map<string, number>;

/** Tables iptables-nft keeps in nftables: read through iptables-save already, not counted twice. */
const IPTABLES_NFT_TABLES = /^table (ip|ip6) (filter|nat|mangle|raw|security) \{/;

export function parseDropCounters(iptablesSaveC: string, nftRuleset: string): DropCounters {
  const counters: DropCounters = new Map();
  let table = "";
  for (const line of iptablesSaveC.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1).trim();
    const policy = /^:(\S+) (DROP) \[(\d+):\d+\]/.exec(line);
    if (policy) counters.set(`${table} ${policy[1]} policy DROP`, Number(policy[3]));
    const rule = /^\[(\d+):\d+\] (-A .* -j DROP\b.*)$/.exec(line);
    if (rule) counters.set(`${table} ${rule[2]}`, Number(rule[1]));
  }
  let nftTable = "";
  let chain = "";
  let skipping = false;
  for (const raw of nftRuleset.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("table ")) {
      nftTable = line.replace(/ \{$/, "");
      skipping = IPTABLES_NFT_TABLES.test(line);
    } else if (line.startsWith("chain ")) chain = line.replace(/ \{$/, "").slice(6);
    if (skipping) continue;
    const rule = /counter packets (\d+) bytes \d+.*\bdrop\b/.exec(line);
    if (rule)
      counters.set(`${nftTable} ${chain}: ${line.replace(/counter packets \d+ bytes \d+ ?/, "")}`, Number(rule[1]));
  }
  return counters;
}

/** Rules whose counters grew between two readings, most packets first. */
export function droppedBetween(before: DropCounters, after: DropCounters): Array<{ rule: string; packets: number }> {
  return [...after]
    .map(([rule, packets]) => ({ rule, packets: packets - (before.get(rule) ?? 0) }))
    .filter((d) => d.packets > 0)
    .sort((a, b) => b.packets - a.packets);
}
