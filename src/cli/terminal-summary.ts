import {
  commonValues,
  fixVerdictsText,
  GROUP_DIMENSIONS,
  groupCells,
  type CellGroup,
  type GroupDimension,
} from "../results/cell-groups.js";
import type { CellResult } from "../results/schema.js";
import { hostEnvironmentCounts } from "../results/host-environment.js";
import { renderTextTable, wrapTo, type TextColumn, type TextRow } from "./text-table.js";

/** The widest the summary gets, whatever the terminal: a person reads it, summary.md has every column. */
export const SUMMARY_WIDTH = 100;
/** Below this the columns stop giving way and a terminal wraps the lines itself. */
const NARROWEST = 80;

const STATUS_ORDER: readonly CellResult["status"][] = [
  "reproduced",
  "works",
  "flaky",
  "refused",
  "unsupported",
  "unavailable",
  "error",
];

/** The columns after the first, which names the cells of the row by the dimensions that vary. */
const VERDICT_COLUMNS: readonly TextColumn[] = [
  { header: "status", min: 10 },
  { header: "failing (or why)", min: 12 },
  { header: "fix verdicts", min: 16 },
  { header: "sec", min: 3 },
];

/** A status's why, kept short: the whole of it is in summary.md and the report. */
const REASON_CHARS = 90;
const shortened = (text: string) => (text.length > REASON_CHARS ? `${text.slice(0, REASON_CHARS - 1)}…` : text);

/** The width to render for: the terminal's, at most SUMMARY_WIDTH; without a terminal, SUMMARY_WIDTH. */
export const summaryWidth = (stream: { isTTY?: boolean; columns?: number }): number =>
  stream.isTTY && stream.columns ? Math.max(NARROWEST, Math.min(stream.columns, SUMMARY_WIDTH)) : SUMMARY_WIDTH;

function headline(results: readonly CellResult[], groups: readonly CellGroup[]): string {
  const counts = STATUS_ORDER.map((status) => [status, results.filter((r) => r.status === status).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`);
  const withFindings = groups.filter((g) => g.securityFindings > 0).reduce((sum, g) => sum + g.cells.length, 0);
  const findings = withFindings ? `; security findings in ${withFindings} cell(s)` : "";
  return `${results.length} cell(s) in ${groups.length} row(s): ${counts.join(", ")}${findings}`;
}

/** Values that share a leading name say it once: "docker-26.1.5, 28.5.2". */
function valuesText(values: readonly string[]): string {
  const [first = "", ...rest] = values;
  const prefix = /^[a-z][\w.]*-(?=\d)/i.exec(first)?.[0];
  if (!prefix || rest.length === 0 || !rest.every((v) => v.startsWith(prefix))) return values.join(", ");
  return [first, ...rest.map((v) => v.slice(prefix.length))].join(", ");
}

/** Engines all named docker-<version> are shown by version under a "docker" header. */
const ENGINE_PREFIX = "docker-";
const enginesByVersion = (results: readonly CellResult[]) =>
  results.every((r) => r.cell.engine.startsWith(ENGINE_PREFIX));

/** The values a row spans in each dimension where cells differ at all: "26.1.5, 28.5.2", "1.8.11-2". */
function cellsTexts(group: CellGroup, varying: readonly GroupDimension[], byVersion: boolean): string[] {
  const values = (d: GroupDimension) =>
    d === "engine" && byVersion ? group.values[d].map((v) => v.slice(ENGINE_PREFIX.length)) : group.values[d];
  return varying.map((d) => valuesText(values(d)));
}

/** Values that speak for themselves in a heading ("2-nodes", "proxy-off"); the others are named ("iptables 1.8.11"). */
const SELF_NAMED: readonly GroupDimension[] = ["topology", "daemon"];

/** A scenario's heading: the scenario, then the provider when not dind and the values its rows all share. */
function headingOf(group: CellGroup, inHeading: readonly GroupDimension[], byVersion: boolean): string {
  const label = (d: GroupDimension) => {
    const [value = ""] = group.values[d];
    if (d === "engine" && byVersion) return `docker ${value.slice(ENGINE_PREFIX.length)}`;
    return SELF_NAMED.includes(d) ? value : `${d} ${value}`;
  };
  const extras = [...(group.provider === "dind" ? [] : [group.provider]), ...inHeading.map(label)];
  return `${group.scenario}${extras.length ? ` (${extras.join(", ")})` : ""}`;
}

/** The scenario (and provider) a row is listed under. */
const scenarioOf = (group: CellGroup) => `${group.scenario}\0${group.provider}`;

/**
 * The dimensions that differ between cells but never within one scenario's rows (e.g. the
 * topology when only the multi-node scenarios have 2 nodes): said once in the heading, they
 * leave the table's room to the columns that do differ.
 */
function headingDimensions(groups: readonly CellGroup[], varying: readonly GroupDimension[]): GroupDimension[] {
  return varying.filter((d) => {
    const byScenario = new Map<string, string>();
    return groups.every((g) => {
      const [value, ...others] = g.values[d];
      if (value === undefined || others.length > 0) return false;
      const seen = byScenario.get(scenarioOf(g));
      byScenario.set(scenarioOf(g), value);
      return seen === undefined || seen === value;
    });
  });
}

function rowOf(group: CellGroup, varying: readonly GroupDimension[], byVersion: boolean): string[] {
  const failing = [group.failingVantages.join(", "), group.reason ? shortened(group.reason) : ""]
    .filter(Boolean)
    .join("; ");
  return [
    ...cellsTexts(group, varying, byVersion),
    group.status,
    failing || "–",
    fixVerdictsText(group.fixes),
    group.securityFindings ? String(group.securityFindings) : "–",
  ];
}

/** Each scenario's heading, then its groups' rows. */
function rowsByScenario(
  groups: readonly CellGroup[],
  columns: { inTable: readonly GroupDimension[]; inHeading: readonly GroupDimension[] },
  byVersion: boolean,
): TextRow[] {
  const rows: TextRow[] = [];
  let scenario: string | undefined;
  for (const group of groups) {
    if (scenarioOf(group) !== scenario) {
      scenario = scenarioOf(group);
      rows.push({ heading: `${headingOf(group, columns.inHeading, byVersion)}:` });
    }
    rows.push(rowOf(group, columns.inTable, byVersion));
  }
  return rows;
}

/** Where the cells' hosts ran, when some cell recorded it: one kind, or each kind with its cell count. */
function hostsLines(results: readonly CellResult[], width: number): string[] {
  if (!results.some((r) => r.host)) return [];
  const counts = hostEnvironmentCounts(results);
  const [only] = counts;
  const text =
    counts.length === 1 && only ? only.line : counts.map((c) => `${c.cells} cell(s) on ${c.line}`).join("; ");
  return wrapTo(`hosts: ${text}`, width);
}

/**
 * The end of a run as a person reads it: a headline of counts, what every cell shares, then
 * per scenario one row per group of cells that ended alike (status, failing vantages, fix
 * verdicts, security findings), every line at most `width` wide. `fullTable` names where
 * every column is.
 */
export function renderTerminalSummary(
  results: readonly CellResult[],
  options: { width: number; fullTable?: string },
): string {
  const { width } = options;
  if (results.length === 0) return "no cell results";
  const groups = groupCells(results);
  const common = commonValues(results);
  const shared = GROUP_DIMENSIONS.flatMap((d) => (common[d] === undefined ? [] : [`${d} ${common[d]}`]));
  const varying = GROUP_DIMENSIONS.filter((d) => common[d] === undefined);
  const inHeading = headingDimensions(groups, varying);
  const inTable = varying.filter((d) => !inHeading.includes(d));
  const byVersion = enginesByVersion(results);
  const columns = [
    ...inTable.map((d) => ({ header: d === "engine" && byVersion ? "docker" : d, min: 6 })),
    ...VERDICT_COLUMNS,
  ];
  const notes = [
    "sec: security findings (traffic a policy or Docker's isolation must block got through)",
    ...(options.fullTable ? [`every column, the findings and the iptables call trace: ${options.fullTable}`] : []),
  ];
  return [
    ...wrapTo(headline(results, groups), width),
    ...(shared.length ? wrapTo(`every cell: ${shared.join(", ")}`, width) : []),
    ...hostsLines(results, width),
    "",
    ...renderTextTable(columns, rowsByScenario(groups, { inTable, inHeading }, byVersion), width),
    "",
    ...notes.flatMap((note) => wrapTo(note, width)),
  ].join("\n");
}
