import type { CellResult, ProbeRecord } from "../results/schema.js";
import { passByVantage, targetKey } from "../results/verdicts.js";
import { normaliseRules } from "./goldens.js";

/** Everything that makes a cell what it is, except the provider that ran it. */
const withoutProvider = ({ engine, iptables, backend, daemon, topology, scenario, variant }: CellResult["cell"]) =>
  JSON.stringify([engine, iptables, backend, daemon, topology, scenario, variant ?? ""]);

/** The same cell on another host provider (a VM cell's dind twin and back). */
export function twinOf(result: CellResult, all: readonly CellResult[]): CellResult | undefined {
  const key = withoutProvider(result.cell);
  return all.find((r) => r.cell.provider !== result.cell.provider && withoutProvider(r.cell) === key);
}

/** "agrees", or the vantages where the two lanes saw different traffic. */
export function twinAgreement(a: CellResult, b: CellResult): { agrees: boolean; differing: string[] } {
  const pa = passByVantage(a.baseline?.probes ?? []);
  const pb = passByVantage(b.baseline?.probes ?? []);
  const differing = [...new Set([...pa.keys(), ...pb.keys()])].filter((v) => pa.get(v) !== pb.get(v)).sort();
  return { agrees: a.status === b.status && differing.length === 0, differing };
}

const shown = (p: ProbeRecord) => `${p.outcome}${p.detail ? ` (${p.detail})` : ""}`;

/** The rules a lane's dockerd made, comparable across lanes: bridges by network, without the dind host's own (outer) DNS rules. */
function lanelessRules(r: CellResult): Set<string> | undefined {
  const final = r.baseline?.rules.final;
  if (!final) return undefined;
  return new Set(
    normaliseRules(final, r.baseline?.targets ?? []).filter((line) => !/DOCKER_OUTPUT|DOCKER_POSTROUTING/.test(line)),
  );
}

/**
 * The evidence beside a twin verdict: each probe the lanes judged differently with both
 * outcomes and details, the kernels and bridge-nf-call-iptables, and whether dockerd left
 * the same rules in both (so a difference comes from the host, not from the rules).
 */
export function twinEvidence(a: CellResult, b: CellResult): string[] {
  const [la, lb] = [a.cell.provider, b.cell.provider];
  const theirs = new Map((b.baseline?.probes ?? []).map((p) => [`${p.vantage} ${targetKey(p)}`, p]));
  const lines = (a.baseline?.probes ?? []).flatMap((p) => {
    const q = theirs.get(`${p.vantage} ${targetKey(p)}`);
    return q && q.pass !== p.pass ? [`${p.vantage} ${targetKey(p)}: ${la} ${shown(p)}; ${lb} ${shown(q)}`] : [];
  });
  const [ea, eb] = [a.baseline?.evidence, b.baseline?.evidence];
  if (ea && eb) {
    lines.push(`kernel: ${la} ${ea.kernel}; ${lb} ${eb.kernel}`);
    lines.push(
      `bridge-nf-call-iptables: ${la} ${ea.bridgeNfCallIptables ?? "not recorded"}; ${lb} ${eb.bridgeNfCallIptables ?? "not recorded"}`,
    );
  }
  const [ra, rb] = [lanelessRules(a), lanelessRules(b)];
  if (ra && rb) {
    const differ = [...ra].filter((l) => !rb.has(l)).length + [...rb].filter((l) => !ra.has(l)).length;
    lines.push(
      differ === 0
        ? "rules at probe time: the same in both lanes (bridges named by network)"
        : `rules at probe time: ${differ} line(s) differ between the lanes`,
    );
  }
  return lines;
}
