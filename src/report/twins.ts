import type { CellResult } from "../results/schema.js";
import { passByVantage } from "../results/verdicts.js";

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
