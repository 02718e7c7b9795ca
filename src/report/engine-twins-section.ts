import type { CellResult } from "../results/schema.js";
import { escapeCell } from "../results/markdown.js";
import { differenceLine, engineTwinComparisons, type EngineTwinComparison, type TwinAspect } from "./engine-twins.js";
import { anchor, scenarioOf } from "./html-common.js";
import { markup, type Html } from "./template.js";

/** The cell a pair shares, engine aside: scenario, iptables build, backend, daemon options and lane. */
const sharedCell = (r: CellResult) =>
  `${scenarioOf(r)} · iptables ${r.cell.iptables} (${r.cell.backend}) · ${r.cell.daemon} · ${r.cell.topology}${r.cell.provider === "dind" ? "" : ` · ${r.cell.provider} VM`}`;

const ASPECTS: readonly TwinAspect[] = ["status", "vantage", "fix"];

/** "agree (reproduced)" or "differ", for one aspect of a pair. */
function aspectWord(c: EngineTwinComparison, aspect: TwinAspect): string {
  if (!c.agrees[aspect]) return "differ";
  return aspect === "status" ? `agree (${c.older.status})` : "agree";
}

const seriesOf = (comparisons: readonly EngineTwinComparison[]) =>
  [...new Set(comparisons.map((c) => `${c.series}.x`))].join(", ");

const headline = (comparisons: readonly EngineTwinComparison[]) => {
  const disagreeing = comparisons.filter((c) => c.differences.length > 0).length;
  return `${comparisons.length} cell pair(s) differ only by engine, both engines of one release series (${seriesOf(comparisons)}): ${comparisons.length - disagreeing} agree on status, every vantage and every fix; ${disagreeing} disagree.`;
};

/** report.md's section: one row per pair, and where a pair disagrees, each difference. Empty without pairs. */
export function engineTwinsMarkdown(results: readonly CellResult[]): string {
  const comparisons = engineTwinComparisons(results);
  if (comparisons.length === 0) return "";
  const rows = comparisons.map((c) => {
    const where = c.differences.map((d) => differenceLine(d, c)).join("; ");
    return `| ${escapeCell(sharedCell(c.newer))} | ${escapeCell(`${c.older.cell.engine} / ${c.newer.cell.engine}`)} | ${ASPECTS.map((a) => aspectWord(c, a)).join(" | ")} | ${where ? escapeCell(where) : "–"} |`;
  });
  return [
    "## Engines of one series side by side",
    "",
    headline(comparisons),
    "",
    "| cell (engine aside) | engines (older / newer) | status | vantages | fixes | where they differ |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

/** index.html's section: the same table, each engine's cell linked. Undefined without pairs. */
export function engineTwinsHtml(results: readonly CellResult[]): Html | undefined {
  const comparisons = engineTwinComparisons(results);
  if (comparisons.length === 0) return undefined;
  const rows = comparisons.map((c) => {
    const cells = ASPECTS.map(
      (a) => markup`<td class="${c.agrees[a] ? "works" : "reproduced"}">${aspectWord(c, a)}</td>`,
    );
    const where = c.differences.length
      ? markup`<ul>${c.differences.map((d) => markup`<li>${differenceLine(d, c)}</li>`)}</ul>`
      : "–";
    return markup`<tr data-engine-twin="${c.newer.cell.id}"><td>${sharedCell(c.newer)}</td><td><a href="#${anchor(c.older)}">${c.older.cell.engine}</a> / <a href="#${anchor(c.newer)}">${c.newer.cell.engine}</a></td>${cells}<td>${where}</td></tr>\n`;
  });
  return markup`<section id="engine-twins"><h2>Engines of one series side by side</h2><p class="meta">${headline(comparisons)}</p><table><thead><tr><th>cell (engine aside)</th><th>engines (older / newer)</th><th>status</th><th>vantages</th><th>fixes</th><th>where they differ</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}
