import { scenarioLabel } from "../config/expand.js";
import { VANTAGES } from "../assertions/probe.js";
import type { CellResult, FixVerdict } from "./schema.js";

/** Every scenario has these columns; the others (foreign bridge, hairpin) only when some cell probed them. */
const ALWAYS_SHOWN = 4;

/** Escapes what a Markdown table cell must not contain (output of containers included). */
export function escapeCell(text: string): string {
  return text.replace(/[\\|`*_<>[\]]/g, (c) => `\\${c}`).replace(/\r?\n/g, " ");
}

function vantageCell(result: CellResult, vantage: string): string {
  const probes = result.baseline?.probes.filter((p) => p.vantage === vantage) ?? [];
  if (probes.length === 0) return "–";
  const failed = probes.filter((p) => !p.pass);
  if (failed.length === 0) return `ok ${probes.length}/${probes.length}`;
  const outcomes = [...new Set(failed.map((p) => p.outcome))].join("/");
  return `**${outcomes} ${failed.length}/${probes.length}**`;
}

const fixCell = (verdict: FixVerdict) =>
  `${verdict.fix}: ${verdict.overall}${verdict.restoredRules ? ` (restored ${verdict.restoredRules.length} skipped rule(s))` : ""}`;

/** The end-of-run table: one row per cell, baseline outcome per vantage, then each fix's verdict. */
export function renderSummary(results: readonly CellResult[]): string {
  const probed = new Set(results.flatMap((r) => r.baseline?.probes.map((p) => p.vantage) ?? []));
  const vantages = VANTAGES.filter((v, i) => i < ALWAYS_SHOWN || probed.has(v));
  const header = ["cell", "engine", "iptables", "-C probe", "daemon", "status", ...vantages, "fixes", "why (iptables call trace)"];
  const rows = [...results]
    .sort((a, b) => a.cell.id.localeCompare(b.cell.id))
    .map((r) => {
      const scenario = `${scenarioLabel(r.cell)}${r.cell.provider === "dind" ? "" : ` (${r.cell.provider})`}`;
      const status = r.reason && r.status !== "works" && r.status !== "reproduced" ? `${r.status}: ${r.reason.split("\n")[0]}` : r.status;
      const data = [scenario, r.cell.engine, `${r.cell.iptables} (${r.cell.backend})`, r.baseline?.evidence?.checkProbe ?? "–", r.cell.daemon, status];
      return [
        ...data.map(escapeCell),
        ...vantages.map((v) => vantageCell(r, v)),
        escapeCell(r.fixes.map((f) => fixCell(f.verdict)).join("; ") || "–"),
        escapeCell(r.status === "works" ? "–" : (r.explanation ?? "–")),
      ];
    });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const table = [line(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n");
  const findings = renderSecurityFindings(results);
  return findings ? `${table}\n\n${findings}` : table;
}

/** Every published port that answered although a policy denies it (and any isolation broken), by cell and attempt. */
export function renderSecurityFindings(results: readonly CellResult[]): string {
  const lines = [...results]
    .sort((a, b) => a.cell.id.localeCompare(b.cell.id))
    .flatMap((r) => [
      ...(r.baseline?.securityFindings ?? []).map((f) => `- ${escapeCell(r.cell.id)} (baseline): ${escapeCell(f)}`),
      ...r.fixes.flatMap((fix) => (fix.attempt.securityFindings ?? []).map((f) => `- ${escapeCell(r.cell.id)} (after ${escapeCell(fix.verdict.fix)}): ${escapeCell(f)}`)),
    ]);
  return lines.length ? [`**Security findings (${lines.length})**: traffic a policy or Docker's isolation must block got through.`, "", ...lines].join("\n") : "";
}
