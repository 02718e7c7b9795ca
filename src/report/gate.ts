import { z } from "zod";
import { filterKeys, namesMatch, type CellNames, type FilterKey } from "../config/expand.js";
import { OVERALL_VERDICTS, USER_ACTION, type CellResult } from "../results/schema.js";
import { countsLine, describeAction, latestUserActions } from "../results/verdicts.js";

const fixVerdict = z.enum(OVERALL_VERDICTS.filter((v) => v !== "error"));

const selector = z.strictObject(
  Object.fromEntries(filterKeys.map((k) => [k, z.string().min(1).optional()])) as Record<
    FilterKey,
    z.ZodOptional<z.ZodString>
  >,
);

export const expectationsFileSchema = z.strictObject({
  version: z.literal(1),
  /** the matrix the cells come from, relative to this file */
  matrix: z.string().default("matrix.yaml"),
  expectations: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        match: selector,
        /** works: must work; reproduced: a known failure, accepted */
        expect: z.enum(["works", "reproduced", "refused"]).optional(),
        /**
         * per fix, the verdict required, or the verdicts accepted: `repaired` requires a full
         * repair (traffic and the user's retried actions); `[repaired, partial]` also accepts
         * a fix that repaired some targets and not others
         */
        fixes: z.record(z.string(), z.union([fixVerdict, z.array(fixVerdict).min(1)])).optional(),
        /** the same, judged again after the scenario's later event (e.g. a kernel-parameter reload): whether the fix lasts */
        fixesAfterEvent: z.record(z.string(), z.union([fixVerdict, z.array(fixVerdict).min(1)])).optional(),
      }),
    )
    .min(1, "an expectations file needs at least one expectation"),
});
export type ExpectationsFile = z.infer<typeof expectationsFileSchema>;
export type Expectation = ExpectationsFile["expectations"][number];

export function expectationMatches(expectation: Expectation, names: CellNames): boolean {
  return Object.entries(expectation.match).every(
    ([key, value]) => value === undefined || namesMatch(names, key as FilterKey, value),
  );
}

const namesOfResult = (r: CellResult): CellNames => ({ ...r.cell, variant: r.cell.variant });

function brokenDetail(r: CellResult): string {
  const failed = (r.baseline?.probes ?? []).filter((p) => !p.pass);
  const byVantage = [...new Set(failed.map((p) => p.vantage))].map((v) => {
    const probes = failed.filter((p) => p.vantage === v);
    const total = (r.baseline?.probes ?? []).filter((p) => p.vantage === v).length;
    return `${v}: ${[...new Set(probes.map((p) => p.outcome))].join("/")} ${probes.length}/${total}`;
  });
  const failedActions = latestUserActions(r.baseline ?? { userActions: [] }).filter((a) => !a.ok);
  if (failedActions.length > 0) byVantage.push(`${USER_ACTION}: ${failedActions.map(describeAction).join(", ")}`);
  return byVantage.join("; ");
}

export interface GateOutcome {
  checkedCells: number;
  regressions: string[];
  /** expectations that matched no result: the gate could not check them */
  unmatched: string[];
}

/** Compares results with the expectations; every difference is one exact line. */
export function evaluateGate(expectations: readonly Expectation[], results: readonly CellResult[]): GateOutcome {
  const regressions: string[] = [];
  const unmatched: string[] = [];
  const checked = new Set<string>();
  for (const expectation of expectations) {
    const cells = results.filter((r) => expectationMatches(expectation, namesOfResult(r)));
    if (cells.length === 0) unmatched.push(expectation.name);
    for (const r of cells) {
      checked.add(r.cell.id);
      const where = `${expectation.name}: ${r.cell.id}`;
      if (expectation.expect && r.status !== expectation.expect) {
        const detail =
          r.status === "reproduced"
            ? ` (${brokenDetail(r)})${r.explanation ? ` — why: ${r.explanation}` : ""}`
            : r.reason
              ? ` (${r.reason.split("\n")[0]})`
              : "";
        regressions.push(`${where}: expected ${expectation.expect}, got ${r.status}${detail}`);
      }
      for (const [fix, wantedOne] of Object.entries(expectation.fixes ?? {})) {
        const accepted: readonly string[] = Array.isArray(wantedOne) ? wantedOne : [wantedOne];
        const wanted = accepted.join(" or ");
        const verdict = r.fixes.find((f) => f.verdict.fix === fix)?.verdict;
        if (!verdict) regressions.push(`${where}: fix ${fix} expected ${wanted}, but it was not tried`);
        else if (!accepted.includes(verdict.overall)) {
          const perVantage = Object.entries(verdict.vantages)
            .map(([v, x]) => `${v} ${x}`)
            .join(", ");
          const details = [perVantage, countsLine(verdict), verdict.reason].filter(Boolean).join("; ");
          regressions.push(
            `${where}: fix ${fix} expected ${wanted}, got ${verdict.overall}${details ? ` (${details})` : ""}`,
          );
        }
      }
      for (const [fix, wantedOne] of Object.entries(expectation.fixesAfterEvent ?? {})) {
        const accepted: readonly string[] = Array.isArray(wantedOne) ? wantedOne : [wantedOne];
        const wanted = accepted.join(" or ");
        const verdict = r.fixes.find((f) => f.verdict.fix === fix)?.verdict;
        const after = verdict?.afterEvent;
        if (!verdict)
          regressions.push(`${where}: fix ${fix} expected ${wanted} after the later event, but it was not tried`);
        else if (!after)
          regressions.push(
            `${where}: fix ${fix} expected ${wanted} after the later event, but no later event was judged`,
          );
        else if (!accepted.includes(after.overall)) {
          const perVantage = Object.entries(after.vantages)
            .map(([v, x]) => `${v} ${x}`)
            .join(", ");
          regressions.push(
            `${where}: fix ${fix} expected ${wanted} after the ${after.event}, got ${after.overall} (${perVantage})`,
          );
        }
      }
    }
  }
  return { checkedCells: checked.size, regressions, unmatched };
}
