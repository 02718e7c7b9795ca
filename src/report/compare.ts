import type { CellResult } from "../results/schema.js";
import { vantageStates } from "../results/verdicts.js";

const vantageState = (r: CellResult): Record<string, string> =>
  Object.fromEntries(
    [...vantageStates(r.baseline ?? { probes: [], userActions: [] })].map(([v, pass]) => [v, pass ? "ok" : "broken"]),
  );

/** What changed between two result sets, one line per difference. */
export function compareResults(before: readonly CellResult[], after: readonly CellResult[]): string[] {
  const old = new Map(before.map((r) => [r.cell.id, r]));
  const now = new Map(after.map((r) => [r.cell.id, r]));
  const lines: string[] = [];
  for (const id of [...new Set([...old.keys(), ...now.keys()])].sort()) {
    const a = old.get(id);
    const b = now.get(id);
    if (!a) {
      lines.push(`+ ${id}: new cell, ${b?.status}`);
      continue;
    }
    if (!b) {
      lines.push(`- ${id}: no longer in the results (was ${a.status})`);
      continue;
    }
    if (a.status !== b.status) lines.push(`~ ${id}: ${a.status} -> ${b.status}`);
    const va = vantageState(a);
    const vb = vantageState(b);
    for (const v of [...new Set([...Object.keys(va), ...Object.keys(vb)])].sort()) {
      if (va[v] !== vb[v]) lines.push(`~ ${id}: ${v} ${va[v] ?? "-"} -> ${vb[v] ?? "-"}`);
    }
    const fa = new Map(a.fixes.map((f) => [f.verdict.fix, f.verdict.overall]));
    const fb = new Map(b.fixes.map((f) => [f.verdict.fix, f.verdict.overall]));
    for (const fix of [...new Set([...fa.keys(), ...fb.keys()])].sort()) {
      if (fa.get(fix) !== fb.get(fix)) lines.push(`~ ${id}: fix ${fix} ${fa.get(fix) ?? "-"} -> ${fb.get(fix) ?? "-"}`);
    }
  }
  return lines;
}
