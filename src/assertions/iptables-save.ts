/** A parsed `iptables-save` dump: tables -> chains, with built-in policies and rules (counters dropped). */
export interface RuleSet {
  tables: Map<string, Table>;
}

export interface Table {
  name: string;
  chains: Map<string, Chain>;
}

export interface Chain {
  name: string;
  /** ACCEPT/DROP for built-in chains, undefined for user chains */
  policy: string | undefined;
  /** rule specifications as iptables-save prints them, without "-A CHAIN" */
  rules: string[];
}

export class RuleSetParseError extends Error {}

export function parseIptablesSave(text: string): RuleSet {
  const tables = new Map<string, Table>();
  let table: Table | undefined;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fail = (why: string) => new RuleSetParseError(`line ${index + 1}: ${why}: ${line}`);
    if (line.startsWith("*")) {
      table = { name: line.slice(1), chains: new Map() };
      tables.set(table.name, table);
    } else if (line === "COMMIT") {
      table = undefined;
    } else if (!table) {
      throw fail("outside a table");
    } else if (line.startsWith(":")) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (!name || !policy) throw fail("malformed chain declaration");
      table.chains.set(name, { name, policy: policy === "-" ? undefined : policy, rules: [] });
    } else if (line.startsWith("[")) {
      // `iptables-save -c` puts counters before the rule: drop them.
      const rest = line.replace(/^\[\d+:\d+\]\s+/, "");
      addRule(table, rest, fail);
    } else {
      addRule(table, line, fail);
    }
  });
  return { tables };
}

function addRule(table: Table, line: string, fail: (why: string) => Error): void {
  const match = /^-A\s+(\S+)\s*(.*)$/.exec(line);
  if (!match) throw fail("expected -A CHAIN ...");
  const [, chainName = "", spec = ""] = match;
  const chain = table.chains.get(chainName);
  if (!chain) throw fail(`rule for undeclared chain ${chainName}`);
  chain.rules.push(normaliseRule(spec));
}

/** Canonical spacing: runs of whitespace become one space, none at the ends. Nothing else is rewritten. */
export function normaliseRule(spec: string): string {
  return spec.replace(/\s+/g, " ").trim();
}

/** A captured dump, or undefined when there is none or it cannot be read (the caller reports that its own way). */
export function tryParseIptablesSave(text: string | undefined): RuleSet | undefined {
  if (!text) return undefined;
  try {
    return parseIptablesSave(text);
  } catch (error) {
    if (error instanceof RuleSetParseError) return undefined;
    throw error;
  }
}

export function hasRule(rules: RuleSet, table: string, chain: string, spec: string): boolean {
  return rules.tables.get(table)?.chains.get(chain)?.rules.includes(normaliseRule(spec)) ?? false;
}

/** A stable text form (sorted tables, declared chain order kept) for diffs and golden files. */
export function renderRuleSet(rules: RuleSet): string {
  const out: string[] = [];
  for (const table of [...rules.tables.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    out.push(`*${table.name}`);
    for (const chain of table.chains.values()) out.push(`:${chain.name} ${chain.policy ?? "-"}`);
    for (const chain of table.chains.values()) for (const rule of chain.rules) out.push(`-A ${chain.name} ${rule}`);
    out.push("COMMIT");
  }
  return out.join("\n");
}
