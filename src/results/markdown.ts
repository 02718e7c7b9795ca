import { scenarioLabel } from "../config/expand.js";
import { USER_ACTION, VERDICT_COLUMNS, type CellResult, type FixVerdict } from "./schema.js";
import { countsLine, latestUserActions } from "./verdicts.js";

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

/** The firewall backend dockerd reported in force (docker info), or "–" for engines that report none. */
const firewallOf = (r: CellResult) => r.baseline?.evidence?.firewallBackend ?? "–";

/** One fix's verdict in a line: overall, then the counts unless it simply repaired, then the failing action. */
export function fixLine(verdict: FixVerdict): string {
  const counts = verdict.overall === "repaired" || verdict.overall === "ok" ? "" : countsLine(verdict);
  const restored = verdict.restoredRules ? `restored ${verdict.restoredRules.length} skipped rule(s)` : "";
  const why = verdict.reason ? verdict.reason.split("\n")[0] : "";
  const details = [counts, restored, why].filter(Boolean).join("; ");
  return `${verdict.fix}: ${verdict.overall}${details ? ` (${details})` : ""}`;
}

/** The end-of-run table: one row per cell, baseline outcome per vantage and user action, then each fix's verdict. */
export function renderSummary(results: readonly CellResult[]): string {
  const header = ["cell", "engine", "iptables", "-C probe", "daemon", "status", "firewall", ...VERDICT_COLUMNS, "fixes", "why (iptables call trace)"];
  const rows = [...results]
    .sort((a, b) => a.cell.id.localeCompare(b.cell.id))
    .map((r) => {
      const scenario = `${scenarioLabel(r.cell)}${r.cell.provider === "dind" ? "" : ` (${r.cell.provider})`}`;
      const status = r.reason && r.status !== "works" && r.status !== "reproduced" ? `${r.status}: ${r.reason.split("\n")[0]}` : r.status;
      const data = [scenario, r.cell.engine, `${r.cell.iptables} (${r.cell.backend})`, r.baseline?.evidence?.checkProbe ?? "–", r.cell.daemon, status, firewallOf(r)];
      return [
        ...data.map(escapeCell),
        ...VERDICT_COLUMNS.map((v) => vantageCell(r, v)),
        escapeCell(r.fixes.map((f) => fixLine(f.verdict)).join("; ") || "–"),
        escapeCell(r.status === "works" ? "–" : (r.explanation ?? "–")),
      ];
    });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n");
}
