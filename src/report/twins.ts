import type { CellResult } from "../results/schema.js";
import { passByVantage } from "../results/verdicts.js";

/** The same cell on the other host provider (a VM cell's dind twin and back). */
export function twinOf(result: CellResult, all: readonly CellResult[]): CellResult | undefined {
  const other = result.cell.provider === "dind" ? "vagrant" : "dind";
  const id = result.cell.id.replace(`__${result.cell.provider}__`, `__${other}__`);
  return all.find((r) => r.cell.id === id);
}


/** "agrees", or the vantages where the two lanes saw different traffic. */
export function twinAgreement(a: CellResult, b: CellResult): { agrees: boolean; differing: string[] } {
  const pa = passByVantage(a.baseline?.probes ?? []);
  const pb = passByVantage(b.baseline?.probes ?? []);
  const differing = [...new Set([...pa.keys(), ...pb.keys()])].filter((v) => pa.get(v) !== pb.get(v)).sort();
  return { agrees: a.status === b.status && differing.length === 0, differing };
}
