/** What the checks need from `nft list ruleset`: tables, their chains (with hooks), rules and map elements. */
export interface NftChain {
  name: string;
  /** "type filter hook forward priority filter; policy accept" for a base chain; undefined for a regular chain */
  hook?: string;
  /** rules as printed, counters removed */
  rules: string[];
}

export interface NftTable {
  family: string;
  name: string;
  chains: Map<string, NftChain>;
  /** map or set name -> its elements as printed, e.g. `"docker0" : jump filter-forward-in__docker0` */
  maps: Map<string, string[]>;
}

/** Tables keyed by "family name", e.g. "ip docker-bridges". */
export type NftRuleset = Map<string, NftTable>;

export class NftParseError extends Error {}

/** Counters change with every packet; they are no part of a rule's meaning. */
export const withoutCounters = (rule: string) =>
  rule
    .replace(/\bcounter packets \d+ bytes \d+\s*/g, "")
    .replace(/\bcounter\s+/g, "")
    .replace(/\s+/g, " ")
    .trim();

/** Splits `a : b, c : d` at top-level commas (none occur inside the quoted interface names Docker uses). */
const splitElements = (text: string) =>
  text
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);

export function parseNftRuleset(text: string): NftRuleset {
  const tables: NftRuleset = new Map();
  let table: NftTable | undefined;
  let block: { kind: string; name: string } | undefined;
  let elements: string | undefined;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    if (elements !== undefined) {
      elements += ` ${line}`;
      if (line.endsWith("}")) finishElements();
      return;
    }
    const tableStart = /^table (\S+) (\S+) \{$/.exec(line);
    if (tableStart) {
      if (table) throw new NftParseError(`line ${index + 1}: table inside table ${table.name}`);
      table = { family: tableStart[1] as string, name: tableStart[2] as string, chains: new Map(), maps: new Map() };
      tables.set(`${table.family} ${table.name}`, table);
      return;
    }
    if (!table) throw new NftParseError(`line ${index + 1}: '${line.slice(0, 60)}' outside any table`);
    const blockStart = /^(chain|map|set|flowtable|counter|quota|ct \S+) (\S+) \{$/.exec(line);
    if (blockStart) {
      block = { kind: blockStart[1] as string, name: blockStart[2] as string };
      if (block.kind === "chain") table.chains.set(block.name, { name: block.name, rules: [] });
      if (block.kind === "map" || block.kind === "set") table.maps.set(block.name, []);
      return;
    }
    if (line === "}") {
      if (block) block = undefined;
      else table = undefined;
      return;
    }
    if (!block) return; // table-level statements such as flags or comment
    if (block.kind === "map" || block.kind === "set") {
      if (line.startsWith("elements = {")) {
        elements = line;
        if (line.endsWith("}")) finishElements();
      }
      return;
    }
    if (block.kind !== "chain") return;
    const chain = table.chains.get(block.name) as NftChain;
    if (/^type \S+ hook \S+/.test(line)) chain.hook = line.replace(/;\s*$/, "");
    else chain.rules.push(withoutCounters(line));
  });
  if (table) throw new NftParseError(`table ${table.family} ${table.name} is not closed`);
  return tables;

  function finishElements() {
    const body = (elements as string).replace(/^elements = \{/, "").replace(/\}$/, "");
    elements = undefined;
    if (table && block) table.maps.set(block.name, splitElements(body));
  }
}

export function tryParseNftRuleset(text: string | undefined): NftRuleset | undefined {
  if (!text) return undefined;
  try {
    return parseNftRuleset(text);
  } catch (error) {
    if (error instanceof NftParseError) return undefined;
    throw error;
  }
}

/**
 * One line per fact, sorted within each table, so two healthy hosts of a kind compare
 * line by line: `ip docker-bridges chain filter-FORWARD hook ...`, `... rule <rule>`,
 * `... map <name> <element>`.
 */
export function renderNftFacts(ruleset: NftRuleset): string[] {
  const lines: string[] = [];
  for (const table of ruleset.values()) {
    const at = `${table.family} ${table.name}`;
    for (const [name, elements] of table.maps) {
      lines.push(`${at} map ${name}`);
      for (const element of elements) lines.push(`${at} map ${name} ${element}`);
    }
    for (const chain of table.chains.values()) {
      lines.push(`${at} chain ${chain.name}${chain.hook ? ` ${chain.hook}` : ""}`);
      for (const rule of chain.rules) lines.push(`${at} chain ${chain.name} rule ${rule}`);
    }
  }
  return lines.sort();
}
