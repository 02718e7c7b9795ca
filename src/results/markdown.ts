import { scenarioLabel } from "../config/expand.js";
import { VANTAGES } from "./schema.js";
import { USER_ACTION, VERDICT_COLUMNS, type AttemptResult, type CellResult, type FixVerdict } from "./schema.js";
import { countsLine, latestUserActions } from "./verdicts.js";
import { hostEnvironmentCounts } from "./host-environment.js";

/** Vantages only some scenarios deploy (foreign bridge, hairpin): a column only when some cell probed them. */
const OPTIONAL_VANTAGES: ReadonlySet<string> = new Set<string>(VANTAGES.slice(4));

/** Escapes what a Markdown table cell must not contain (output of containers included). */
export function escapeCell(text: string): string {
  return text.replace(/[\\|`*_<>[\]]/g, (c) => `\\${c}`).replace(/\r?\n/g, " ");
}

/** "ok 2/2", or which of the user's actions failed, e.g. "failed: docker run -p 8084:80 (exit 125)". */
function userActionCell(result: CellResult): string {
  const actions = latestUserActions(result.baseline ?? { userActions: [] });
  if (actions.length === 0) return "–";
  const failed = actions.filter((a) => !a.ok);
  if (failed.length === 0) return `ok ${actions.length}/${actions.length}`;
  return `**failed ${failed.length}/${actions.length}**: ${escapeCell(failed.map((a) => `${a.action} (exit ${a.exitCode})`).join(", "))}`;
}

function vantageCell(result: CellResult, vantage: string): string {
  if (vantage === USER_ACTION) return userActionCell(result);
  const probes = result.baseline?.probes.filter((p) => p.vantage === vantage) ?? [];
  if (probes.length === 0) return "–";
  const failed = probes.filter((p) => !p.pass);
  if (failed.length === 0) return `ok ${probes.length}/${probes.length}`;
  const outcomes = [...new Set(failed.map((p) => p.outcome))].join("/");
  return `**${outcomes} ${failed.length}/${probes.length}**`;
}

/** The kernel's legacy xtables and nf_tables, as the cell's hosts read them (older results: none). */
const kernelOf = (r: CellResult) =>
  r.kernel ? `legacy ${r.kernel.legacyXtables}, nf_tables ${r.kernel.nfTables}` : "–";

/** The firewall backend dockerd reported in force (docker info), or "–" for engines that report none. */
const firewallOf = (r: CellResult) => r.baseline?.evidence?.firewallBackend ?? "–";

/** One fix's verdict in a line: overall, then the counts unless it simply repaired, then the failing action, then the verdict after a later event. */
export function fixLine(verdict: FixVerdict): string {
  const counts = verdict.overall === "repaired" || verdict.overall === "ok" ? "" : countsLine(verdict);
  const restored = verdict.restoredRules ? `restored ${verdict.restoredRules.length} skipped rule(s)` : "";
  const why = verdict.reason ? verdict.reason.split("\n")[0] : "";
  const details = [counts, restored, why].filter(Boolean).join("; ");
  const after = verdict.afterEvent ? `, then ${verdict.afterEvent.overall} after the ${verdict.afterEvent.event}` : "";
  return `${verdict.fix}: ${verdict.overall}${details ? ` (${details})` : ""}${after}`;
}

/** How a fix of a healthy cell was regression-checked when it shared a host with others (settings.fixesOnHealthyBaseline chained). */
export function chainNote(attempt: Pick<AttemptResult, "chainedAfter">): string {
  if (!attempt.chainedAfter) return "";
  return attempt.chainedAfter.length
    ? `regression-checked together on one host, after ${attempt.chainedAfter.join(", ")}`
    : "regression-checked together on one host, first";
}

/** Each fix's verdict, how it was checked, and the fixes not run and why. */
export function fixesLine(r: Pick<CellResult, "fixes" | "fixesNotRun">): string {
  return [
    ...r.fixes.map((f) => {
      const chained = chainNote(f.attempt);
      return `${fixLine(f.verdict)}${chained ? ` [${chained}]` : ""}`;
    }),
    ...(r.fixesNotRun ? [`${r.fixesNotRun.fixes.join(", ")}: ${r.fixesNotRun.reason}`] : []),
  ].join("; ");
}

/** The end-of-run table: one row per cell, baseline outcome per vantage and user action, then each fix's verdict. */
export function renderSummary(results: readonly CellResult[]): string {
  const probed = new Set<string>(results.flatMap((r) => r.baseline?.probes.map((p) => p.vantage) ?? []));
  const columns = VERDICT_COLUMNS.filter((v) => !OPTIONAL_VANTAGES.has(v) || probed.has(v));
  // a column only once cells record their kernel, so summaries of older results stay as they were
  const kernels = results.some((r) => r.kernel);
  const header = [
    "cell",
    "engine",
    "iptables",
    "-C probe",
    "daemon",
    "status",
    "firewall",
    ...(kernels ? ["kernel"] : []),
    ...columns,
    "fixes",
    "why (iptables call trace)",
  ];
  const rows = [...results]
    .sort((a, b) => a.cell.id.localeCompare(b.cell.id))
    .map((r) => {
      const scenario = `${scenarioLabel(r.cell)}${r.cell.provider === "dind" ? "" : ` (${r.cell.provider})`}`;
      const status =
        r.reason && r.status !== "works" && r.status !== "reproduced"
          ? `${r.status}: ${r.reason.split("\n")[0]}`
          : r.status;
      const data = [
        scenario,
        r.cell.engine,
        `${r.cell.iptables} (${r.cell.backend})`,
        r.baseline?.evidence?.checkProbe ?? "–",
        r.cell.daemon,
        status,
        firewallOf(r),
        ...(kernels ? [kernelOf(r)] : []),
      ];
      return [
        ...data.map(escapeCell),
        ...columns.map((v) => vantageCell(r, v)),
        escapeCell(fixesLine(r) || "–"),
        escapeCell(r.status === "works" ? "–" : (r.explanation ?? "–")),
      ];
    });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const table = [line(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n");
  return [table, renderHostEnvironments(results), renderSecurityFindings(results)].filter(Boolean).join("\n\n");
}

/** Where the cells' hosts ran, one line per kind of host: "**Hosts**: privileged host, cgroup v2, … (12 cells)". */
export function renderHostEnvironments(results: readonly CellResult[]): string {
  const counts = hostEnvironmentCounts(results);
  if (counts.length === 0) return "";
  const line = ({ line, cells }: (typeof counts)[number]) =>
    `${escapeCell(line)} (${cells} cell${cells === 1 ? "" : "s"})`;
  const [only] = counts;
  return counts.length === 1 && only
    ? `**Hosts**: ${line(only)}`
    : ["**Hosts**:", "", ...counts.map((c) => `- ${line(c)}`)].join("\n");
}

/** Every published port that answered although a policy denies it (and any isolation broken), by cell and attempt. */
export function renderSecurityFindings(results: readonly CellResult[]): string {
  const lines = [...results]
    .sort((a, b) => a.cell.id.localeCompare(b.cell.id))
    .flatMap((r) => [
      ...(r.baseline?.securityFindings ?? []).map((f) => `- ${escapeCell(r.cell.id)} (baseline): ${escapeCell(f)}`),
      ...r.fixes.flatMap((fix) =>
        (fix.attempt.securityFindings ?? []).map(
          (f) => `- ${escapeCell(r.cell.id)} (after ${escapeCell(fix.verdict.fix)}): ${escapeCell(f)}`,
        ),
      ),
    ]);
  return lines.length
    ? [
        `**Security findings (${lines.length})**: traffic a policy or Docker's isolation must block got through.`,
        "",
        ...lines,
      ].join("\n")
    : "";
}
