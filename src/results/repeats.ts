import type { CellResult } from "./schema.js";
import { latestUserActions } from "./verdicts.js";

/**
 * What a repeat must reproduce to agree: the status, which probes passed per vantage and
 * target, which of the user's actions succeeded, and each fix's per-vantage verdict. Timings,
 * the probe order and the exact failure kind (timeout vs refused) may vary without making a
 * verdict different.
 */
export function verdictOf(result: CellResult): string {
  const probes = (result.baseline?.probes ?? [])
    .map((p) => `${p.vantage} ${p.target}: ${p.pass ? "pass" : "fail"}`)
    .sort();
  const actions = latestUserActions(result.baseline ?? { userActions: [] }).map(
    (a) => `${a.action}: ${a.ok ? "ok" : "failed"}`,
  );
  const fixes = result.fixes
    .map((f) => `${f.verdict.fix}=${f.verdict.overall} ${JSON.stringify(f.verdict.vantages)}`)
    .sort();
  return [`status=${result.status}`, ...probes, ...actions, ...fixes].join("; ");
}

const orderOf = (result: CellResult) => result.baseline?.probeOrder?.vantages.join(",");

/**
 * Folds N repeats of a cell into one result; disagreement makes it `flaky` and keeps every
 * verdict seen, with the probe orders that gave it.
 */
export function combineRepeats(results: readonly CellResult[]): CellResult {
  const [first, ...rest] = results;
  if (!first) throw new Error("combineRepeats needs at least one result");
  if (rest.length === 0) return first;
  const outcomes = new Map<string, { verdict: string; count: number; probeOrders: string[] }>();
  for (const result of results) {
    const verdict = verdictOf(result);
    const outcome = outcomes.get(verdict) ?? { verdict, count: 0, probeOrders: [] };
    outcome.count++;
    const order = orderOf(result);
    if (order) outcome.probeOrders.push(order);
    outcomes.set(verdict, outcome);
  }
  const agreeing = outcomes.get(verdictOf(first))?.count ?? 0;
  const durationMs = results.reduce((sum, r) => sum + r.durationMs, 0);
  const flaky = outcomes.size > 1;
  return {
    ...first,
    status: flaky ? "flaky" : first.status,
    reason: flaky ? `${outcomes.size} different verdicts in ${results.length} repeats` : first.reason,
    repeats: { count: results.length, agreeing, outcomes: [...outcomes.values()] },
    durationMs,
  };
}
