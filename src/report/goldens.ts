import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { nameBridges } from "../assertions/bridge-names.js";
import { ruleLayout } from "../assertions/expected-rules.js";
import { parseIptablesSave, renderRuleSet } from "../assertions/iptables-save.js";
import { parseNftRuleset, renderNftFacts } from "../assertions/nft-ruleset.js";
import { NFT_ABSENT } from "../contract/host-contract.js";
import type { CellResult } from "../results/schema.js";
import { packageFile } from "../harness/package-files.js";

export const DEFAULT_GOLDENS_DIR = packageFile("goldens");

export interface GoldenDiff {
  golden: string;
  missing: string[];
  extra: string[];
}

const onNftables = (result: CellResult) => result.baseline?.evidence?.firewallBackend === "nftables";

/**
 * engine rule layout × backend × scenario, e.g. 28+/nft/curl-timeout (node-a of a two-node cell:
 * 28+/nft/snat-lost.2-nodes); the backend is the
 * iptables backend (nft, legacy), or `nftables` when dockerd's nftables firewall backend
 * was in force (its golden is the normalised `nft list ruleset`).
 */
export function goldenKey(result: CellResult): string | undefined {
  const version = /version (\d+\.\d+\.\d+)/.exec(result.baseline?.evidence?.dockerdVersion ?? "")?.[1];
  if (!version) return undefined;
  const nodes = result.baseline?.nodes?.length ?? 1;
  // a node of a multi-node cell holds its subnets and the cluster's admission besides Docker's own rules
  const scenario = nodes > 1 ? `${result.cell.scenario}.${nodes}-nodes` : result.cell.scenario;
  return `${ruleLayout(version)}/${onNftables(result) ? "nftables" : result.cell.backend}/${scenario}`;
}

/**
 * A rule set in a form that is the same on every healthy host of a kind: canonical
 * iptables-save text, bridges named by network, and the per-start ports of Docker's
 * embedded DNS replaced.
 */
export function normaliseRules(
  text: string,
  targets: CellResult["fixes"][number]["attempt"]["targets"],
  kind: "iptables" | "nft" = "iptables",
): string[] {
  const rendered =
    kind === "nft" ? renderNftFacts(parseNftRuleset(text)).join("\n") : renderRuleSet(parseIptablesSave(text));
  return nameBridges(rendered, targets)
    .replace(/127\.0\.0\.11:\d+/g, "127.0.0.11:<dns-port>")
    .replace(/--sport \d+ -j SNAT --to-source :53/g, "--sport <dns-port> -j SNAT --to-source :53")
    .replace(/ sport \d+ snat to :53/g, " sport <dns-port> snat to :53")
    .split("\n")
    .sort((a, b) => (kind === "nft" ? a.localeCompare(b) : 0));
}

/** The healthy state a cell saw: the rules before its scenario broke the host, or its final rules if it works. */
function healthyRules(result: CellResult): string[] | undefined {
  const baseline = result.baseline;
  if (!baseline) return undefined;
  const works = result.status === "works";
  const text = onNftables(result)
    ? (baseline.rules.nftBeforeBreak ?? (works ? baseline.rules.nftFinal : undefined))
    : (baseline.rules.beforeBreak ?? (works ? baseline.rules.final : undefined));
  return text && text !== NFT_ABSENT
    ? normaliseRules(text, baseline.targets, onNftables(result) ? "nft" : "iptables")
    : undefined;
}

export async function diffAgainstGolden(
  result: CellResult,
  dir = DEFAULT_GOLDENS_DIR,
): Promise<GoldenDiff | undefined> {
  const key = goldenKey(result);
  const final = onNftables(result) ? result.baseline?.rules.nftFinal : result.baseline?.rules.final;
  // a host without nft has no ruleset to compare
  if (!key || !final || final === NFT_ABSENT) return undefined;
  const file = join(dir, `${key}.rules`);
  if (!existsSync(file)) return undefined;
  const golden = new Set((await readFile(file, "utf8")).split("\n").filter(Boolean));
  const actual = new Set(
    normaliseRules(final, result.baseline?.targets ?? [], onNftables(result) ? "nft" : "iptables"),
  );
  return {
    golden: key,
    missing: [...golden].filter((l) => !actual.has(l)),
    extra: [...actual].filter((l) => !golden.has(l)),
  };
}

/** Writes one golden per key from the first cell that shows a healthy state for it; returns the keys written. */
export async function updateGoldens(results: readonly CellResult[], dir = DEFAULT_GOLDENS_DIR): Promise<string[]> {
  const written = new Map<string, string[]>();
  for (const result of results) {
    const key = goldenKey(result);
    const rules = healthyRules(result);
    if (key && rules && !written.has(key)) written.set(key, rules);
  }
  for (const [key, rules] of written) {
    const file = join(dir, `${key}.rules`);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${rules.join("\n")}\n`);
  }
  return [...written.keys()];
}
