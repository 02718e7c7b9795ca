import { scenarioLabel } from "../config/expand.js";
import { OVERALL_VERDICTS, VERDICT_COLUMNS, type CellResult } from "./schema.js";

/** The names a cell varies by, besides its scenario: a group of cells spans values of these. */
export const GROUP_DIMENSIONS = ["engine", "iptables", "backend", "daemon", "topology"] as const;
export type GroupDimension = (typeof GROUP_DIMENSIONS)[number];

/**
 * Cells that ended alike (same scenario, status, failing vantages, fix verdicts), spanning
 * exactly every combination of the values below: the cells are their cartesian product.
 */
export interface CellGroup {
  scenario: string;
  provider: string;
  status: CellResult["status"];
  /** the first line of why, for a status that is not a verdict on traffic (unavailable, refused, error...) */
  reason: string | undefined;
  /** in the order of the summary's columns */
  failingVantages: string[];
  /** each fix and its overall verdict, in the order the cells tried them */
  fixes: { fix: string; overall: string }[];
  /** security findings of every attempt of every cell of the group */
  securityFindings: number;
  cells: CellResult[];
  values: Record<GroupDimension, string[]>;
}

/** Only unavailable, unsupported, error, refused and flaky cells carry a reason worth a row's space. */
const TRAFFIC_VERDICTS: ReadonlySet<string> = new Set(["works", "reproduced"]);

const reasonOf = (r: CellResult) =>
  TRAFFIC_VERDICTS.has(r.status) ? undefined : (r.reason?.split("\n")[0]?.trim() ?? undefined);

const findingsOf = (r: CellResult) =>
  (r.baseline?.securityFindings?.length ?? 0) +
  r.fixes.reduce((sum, f) => sum + (f.attempt.securityFindings?.length ?? 0), 0);

const orderedVantages = (vantages: readonly string[]) =>
  [...vantages].sort(
    (a, b) =>
      (VERDICT_COLUMNS as readonly string[]).indexOf(a) - (VERDICT_COLUMNS as readonly string[]).indexOf(b) ||
      a.localeCompare(b),
  );

function singleCell(r: CellResult): CellGroup {
  return {
    scenario: scenarioLabel(r.cell),
    provider: r.cell.provider,
    status: r.status,
    reason: reasonOf(r),
    failingVantages: orderedVantages(r.brokenVantages),
    fixes: r.fixes.map((f) => ({ fix: f.verdict.fix, overall: f.verdict.overall })),
    securityFindings: findingsOf(r),
    cells: [r],
    values: {
      engine: [r.cell.engine],
      iptables: [r.cell.iptables],
      backend: [r.cell.backend],
      daemon: [r.cell.daemon],
      topology: [r.cell.topology],
    },
  };
}

/** What must be equal for cells to share a row; findings merge by whether there are any. */
const outcomeKey = (g: CellGroup) =>
  JSON.stringify([g.scenario, g.provider, g.status, g.reason, g.failingVantages, g.fixes, g.securityFindings > 0]);

const sameValues = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((v) => b.includes(v));

/** The one dimension two groups differ in, if they differ in exactly one and share no value there. */
function soleDifference(a: CellGroup, b: CellGroup): GroupDimension | undefined {
  const differing = GROUP_DIMENSIONS.filter((d) => !sameValues(a.values[d], b.values[d]));
  const [only] = differing;
  if (differing.length !== 1 || only === undefined) return undefined;
  return a.values[only].some((v) => b.values[only].includes(v)) ? undefined : only;
}

function merged(a: CellGroup, b: CellGroup, along: GroupDimension): CellGroup {
  return {
    ...a,
    securityFindings: a.securityFindings + b.securityFindings,
    cells: [...a.cells, ...b.cells],
    values: { ...a.values, [along]: [...a.values[along], ...b.values[along]].sort(byVersion) },
  };
}

/** Numbers inside names compare as numbers: docker-9.0 before docker-28.5.2, 1.8.11 before 1.8.11-2. */
const byVersion = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/**
 * Cells that ended alike merged into as few rows as keeps every row exact: two groups merge
 * when they differ in one dimension only, so a row's cells are always every combination of
 * the values it names (never "26.1.5 and 28.5.2 with proxy-off or proxy-on" when one is missing).
 */
export function groupCells(results: readonly CellResult[]): CellGroup[] {
  const byOutcome = new Map<string, CellGroup[]>();
  for (const r of [...results].sort((a, b) => byVersion(a.cell.id, b.cell.id))) {
    const group = singleCell(r);
    const key = outcomeKey(group);
    byOutcome.set(key, [...(byOutcome.get(key) ?? []), group]);
  }
  const groups = [...byOutcome.values()].flatMap(mergeAll);
  return groups.sort(
    (a, b) =>
      byVersion(a.scenario, b.scenario) ||
      a.provider.localeCompare(b.provider) ||
      byVersion(a.cells[0]?.cell.id ?? "", b.cells[0]?.cell.id ?? ""),
  );
}

function mergeAll(alike: CellGroup[]): CellGroup[] {
  const groups = [...alike];
  for (let changed = true; changed;) {
    changed = false;
    search: for (let i = 0; i < groups.length; i++)
      for (let j = i + 1; j < groups.length; j++) {
        const [a, b] = [groups[i], groups[j]];
        const along = a && b ? soleDifference(a, b) : undefined;
        if (!a || !b || !along) continue;
        groups.splice(j, 1);
        groups[i] = merged(a, b, along);
        changed = true;
        break search;
      }
  }
  return groups;
}

/** The dimensions whose value is the same in every cell: said once above the table, not in each row. */
export function commonValues(results: readonly CellResult[]): Partial<Record<GroupDimension, string>> {
  const common: Partial<Record<GroupDimension, string>> = {};
  for (const d of GROUP_DIMENSIONS) {
    const values = new Set(results.map((r) => r.cell[d]));
    const [only] = values;
    if (values.size === 1 && only !== undefined) common[d] = only;
  }
  return common;
}

/**
 * The fixes by verdict, in the order of OVERALL_VERDICTS (what repaired first, what only kept a
 * healthy cell healthy last): "repaired: a, b; still-broken: c; ok 2".
 */
export function fixVerdictsText(fixes: CellGroup["fixes"]): string {
  if (fixes.length === 0) return "–";
  const byVerdict = new Map<string, string[]>();
  for (const { fix, overall } of fixes) byVerdict.set(overall, [...(byVerdict.get(overall) ?? []), fix]);
  const rank = (verdict: string) => (OVERALL_VERDICTS as readonly string[]).indexOf(verdict);
  const verdicts = [...byVerdict.keys()].sort((a, b) => rank(a) - rank(b));
  return verdicts
    .map((verdict) => {
      const names = byVerdict.get(verdict) ?? [];
      // on a cell that works, "ok" and "not-applicable" only say nothing regressed: a count is enough
      return verdict === "ok" || verdict === "not-applicable"
        ? `${verdict}: ${names.length} fix${names.length === 1 ? "" : "es"}`
        : `${verdict}: ${names.join(", ")}`;
    })
    .join("; ");
}
