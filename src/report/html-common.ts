import { scenarioLabel } from "../config/expand.js";
import { USER_ACTION, VERDICT_COLUMNS, type CellResult } from "../results/schema.js";

/** One letter per verdict column, for the badges of the matrix. */
export const VANTAGE_LETTERS: Record<(typeof VERDICT_COLUMNS)[number], string> = {
  localhost: "L",
  "host-ip": "H",
  external: "E",
  "cross-network": "X",
  "foreign-bridged": "B",
  "foreign-routed": "R",
  hairpin: "P",
  "cross-node": "N",
  "to-other-node": "O",
  [USER_ACTION]: "U",
};

export const scenarioOf = (r: CellResult): string => scenarioLabel(r.cell);
/** The id of a cell's drill-down; links to a cell point here. */
export const anchor = (r: CellResult): string => `cell-${r.cell.id}`;
export const uniq = (xs: readonly string[]): string[] => [...new Set(xs)].sort();

/** The combination a cell ran on, short: what an operator picks (engine, iptables build, backend, daemon options). */
export const combinationLabel = (r: CellResult): string =>
  `${r.cell.engine} · iptables ${r.cell.iptables} (${r.cell.backend}) · ${r.cell.daemon}${r.cell.provider === "dind" ? "" : ` · ${r.cell.provider} VM`}`;

/** Every security finding of a cell: the baseline's, then each fix's. */
export const securityFindingsOf = (r: CellResult): string[] => [
  ...(r.baseline?.securityFindings ?? r.securityFindings ?? []).map((f) => `baseline: ${f}`),
  ...r.fixes.flatMap((x) => (x.attempt.securityFindings ?? []).map((f) => `after ${x.verdict.fix}: ${f}`)),
];
