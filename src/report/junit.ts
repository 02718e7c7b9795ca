import junit, { type Builder } from "junit-report-builder";

// A CommonJS package: depending on the loader its builder is the import itself or its `default`.
type Factory = { newBuilder(): Builder };
const factory = (junit as unknown as Partial<Factory> & { default?: Factory }).newBuilder
  ? (junit as unknown as Factory)
  : (junit as unknown as { default: Factory }).default;
import { scenarioLabel } from "../config/expand.js";
import { USER_ACTION, type CellResult } from "../results/schema.js";
import { countsLine, describeAction, latestUserActions } from "../results/verdicts.js";

const scenarioOf = (r: CellResult) => scenarioLabel(r.cell);

/**
 * One suite per scenario; one test case per cell × vantage (the baseline's traffic) and per
 * cell × fix. A reproduced failure, or an engine that refused the cell's settings, is a failing case; unavailable/unsupported cells are
 * skipped with their reason; harness errors are errors.
 */
export function renderJunit(results: readonly CellResult[]): string {
  const builder = factory.newBuilder();
  const suites = new Map<string, ReturnType<typeof builder.testSuite>>();
  for (const r of results) {
    const name = scenarioOf(r);
    let suite = suites.get(name);
    if (!suite) suites.set(name, (suite = builder.testSuite().name(`fwcompat ${name}`)));
    const className = `${r.cell.engine}.${r.cell.iptables}-${r.cell.backend}.${r.cell.daemon}.${r.cell.topology}`;
    if (!r.baseline || r.status === "unavailable" || r.status === "unsupported" || r.status === "error") {
      const test = suite.testCase().className(className).name(`${name} baseline`);
      if (r.status === "error") test.error(r.reason ?? "harness error", "error");
      else test.skipped().standardOutput(`${r.status}: ${r.reason ?? ""}`);
      continue;
    }
    if (r.status === "refused") {
      suite
        .testCase()
        .className(className)
        .name(`${name} engine`)
        .failure(`the engine refused the cell's settings: ${r.reason ?? ""}`, "refused");
    }
    const vantages = [...new Set(r.baseline.probes.map((p) => p.vantage))];
    for (const vantage of vantages) {
      const probes = r.baseline.probes.filter((p) => p.vantage === vantage);
      const failed = probes.filter((p) => !p.pass);
      const test = suite
        .testCase()
        .className(className)
        .name(`${name} ${vantage}`)
        .time(probes.reduce((max, p) => Math.max(max, p.ms), 0) / 1000);
      if (failed.length > 0) {
        test.failure(
          `${failed.length}/${probes.length} probes not as expected: ${failed.map((p) => `${p.target} ${p.outcome}${p.expect === "blocked" && p.outcome === "ok" ? ` (SECURITY: must be blocked${p.guard ? `: ${p.guard}` : ""})` : ""}`).join("; ")}${r.explanation ? ` — ${r.explanation}` : ""}`,
          r.status === "flaky" ? "flaky" : "reproduced",
        );
      }
    }
    const actions = latestUserActions(r.baseline);
    if (actions.length > 0) {
      const test = suite.testCase().className(className).name(`${name} ${USER_ACTION}`);
      const failed = actions.filter((a) => !a.ok);
      if (failed.length > 0)
        test.failure(
          `${failed.length}/${actions.length} user actions failed: ${failed.map(describeAction).join("; ")}`,
          "reproduced",
        );
    }
    for (const { verdict, attempt } of r.fixes) {
      const test = suite.testCase().className(className).name(`${name} fix ${verdict.fix}`);
      if (verdict.overall === "not-applicable") test.skipped().standardOutput(attempt.reason ?? "not applicable");
      else if (verdict.overall === "error")
        test.error(verdict.reason ?? attempt.reason ?? "fix attempt failed", "error");
      else if (verdict.overall !== "repaired" && verdict.overall !== "ok") {
        const perVantage = Object.entries(verdict.vantages)
          .map(([v, x]) => `${v} ${x}`)
          .join(", ");
        const counts = countsLine(verdict);
        test.failure(
          `${verdict.overall}: ${perVantage}${counts ? ` (${counts})` : ""}${verdict.reason ? ` — ${verdict.reason}` : ""}`,
          verdict.overall,
        );
      }
    }
  }
  return builder.build();
}
