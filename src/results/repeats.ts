import type { CellResult } from "./schema.js";

/**
 * What a repeat must reproduce to agree: the status, which probes passed per vantage and
 * target, and each fix's per-vantage verdict. Timings and the exact failure kind
 * (timeout vs refused) may vary without making a verdict different.
 */
export function verdictOf(result: CellResult): string {
  const probes = (result.baseline?.probes ?? []).map((p) => `${p.vantage} ${p.target}: ${p.pass ? "pass" : "fail"}`).sort();
  const fixes = result.fixes.map((f) => `${f.verdict.fix}=${f.verdict.overall} ${JSON.stringify(f.verdict.vantages)}`).sort();
  return [`status=${result.status}`, ...probes, ...fixes].join("; ");
}

/** Folds N repeats of a cell into one result; disagreement makes it `flaky` and keeps every verdict seen. */
export function combineRepeats(results: readonly CellResult[]): CellResult {
  const [first, ...rest] = results;
  if (!first) throw new Error("combineRepeats needs at least one result");
  if (rest.length === 0) return first;
  const counts = new Map<string, number>();
  for (const result of results) counts.set(verdictOf(result), (counts.get(verdictOf(result)) ?? 0) + 1);
  const agreeing = counts.get(verdictOf(first)) ?? 0;
  const durationMs = results.reduce((sum, r) => sum + r.durationMs, 0);
  return {
    ...first,
    status: counts.size > 1 ? "flaky" : first.status,
    reason: counts.size > 1 ? `${counts.size} different verdicts in ${results.length} repeats` : first.reason,
    repeats: { count: results.length, agreeing, outcomes: [...counts].map(([verdict, count]) => ({ verdict, count })) },
    durationMs,
  };
}
