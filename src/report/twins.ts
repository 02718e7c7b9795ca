import type { CellResult } from "../results/schema.js";

/** The same cell on the other host provider (a VM cell's dind twin and back). */
export function twinOf(result: CellResult, all: readonly CellResult[]): CellResult | undefined {
  const other = result.cell.provider === "dind" ? "vagrant" : "dind";
  const id = result.cell.id.replace(`__${result.cell.provider}__`, `__${other}__`);
  return all.find((r) => r.cell.id === id);
}

const passByVantage = (r: CellResult) => {
  const probes = r.baseline?.probes ?? [];
  return new Map([...new Set(probes.map((p) => p.vantage))].map((v) => [v, probes.filter((p) => p.vantage === v).every((p) => p.pass)]));
};

/** "agrees", or the vantages where the two lanes saw different traffic. */
export function twinAgreement(a: CellResult, b: CellResult): { agrees: boolean; differing: string[] } {
  const pa = passByVantage(a);
  const pb = passByVantage(b);
  const differing = [...new Set([...pa.keys(), ...pb.keys()])].filter((v) => pa.get(v) !== pb.get(v)).sort();
  return { agrees: a.status === b.status && differing.length === 0, differing };
}
