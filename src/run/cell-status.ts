import { unnameBridges } from "../assertions/bridge-names.js";
import { hasRule, tryParseIptablesSave } from "../assertions/iptables-save.js";
import { namesOf, type Cell } from "../config/expand.js";
import { RESULT_SCHEMA_VERSION, type AttemptResult, type CellResult } from "../results/schema.js";
import { baselineStatus, judgeAfterEvent, judgeFix, securityFindings } from "../results/verdicts.js";

/** Which of the rules the baseline's wrong checks skipped are present after the fix. */
function restoredRules(baseline: AttemptResult, after: AttemptResult): string[] | undefined {
  const skipped = baseline.trace?.skippedRules ?? [];
  const rules = tryParseIptablesSave(after.rules.final);
  if (skipped.length === 0 || !rules) return undefined;
  return skipped
    .map((s) => s.rule)
    .filter((rule) => {
      const [table = "", chain = "", ...spec] = unnameBridges(rule, after.targets).split(" ");
      return hasRule(rules, table, chain, spec.join(" "));
    });
}

function cellHeader(cell: Cell) {
  return { ...namesOf(cell), fixes: cell.fixes };
}

export function resultWithoutAttempts(
  runId: string,
  cell: Cell,
  started: Date,
  status: CellResult["status"],
  reason: string,
): CellResult {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    runId,
    cell: cellHeader(cell),
    status,
    reason,
    brokenVantages: [],
    fixes: [],
    startedAt: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
  };
}

export function assembleCell(
  runId: string,
  cell: Cell,
  started: Date,
  baseline: AttemptResult,
  fixAttempts: AttemptResult[],
  fixesNotRun?: CellResult["fixesNotRun"],
): CellResult {
  const base = { ...resultWithoutAttempts(runId, cell, started, "works", ""), ...(fixesNotRun ? { fixesNotRun } : {}) };
  if (baseline.status === "done" && baseline.refusal) {
    const reason = `${baseline.refusal.step}: ${baseline.refusal.detail}`;
    return {
      ...base,
      status: "refused",
      reason,
      baseline,
      fixes: fixAttempts.map((attempt) => ({ verdict: judgeFix(baseline, attempt), attempt })),
    };
  }
  const judged = baselineStatus(baseline);
  if (judged.status === "error") return { ...base, ...judged, baseline };
  const withFindings = (attempt: AttemptResult): AttemptResult => {
    const findings = securityFindings(attempt.probes);
    return findings.length ? { ...attempt, securityFindings: findings } : attempt;
  };
  const judgedBaseline = withFindings(baseline);
  return {
    ...base,
    ...judged,
    ...(judgedBaseline.securityFindings ? { securityFindings: judgedBaseline.securityFindings } : {}),
    explanation: baseline.trace?.explanation,
    baseline: judgedBaseline,
    fixes: fixAttempts.map((attempt) => {
      const afterEvent = judgeAfterEvent(baseline, attempt);
      return {
        verdict: {
          ...judgeFix(baseline, attempt),
          restoredRules: restoredRules(baseline, attempt),
          ...(afterEvent ? { afterEvent } : {}),
        },
        attempt: withFindings(attempt),
      };
    }),
  };
}
