import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { renderSummary } from "../results/markdown.js";
import type { CellResult } from "../results/schema.js";
import { writeAtomically } from "../results/write.js";
import { DEFAULT_GOLDENS_DIR, diffAgainstGolden, updateGoldens, type GoldenDiff } from "./goldens.js";
import { renderHtmlPage } from "./html.js";
import { renderJunit } from "./junit.js";
import { bisectsOf, readResults, type MergedResults, type UnreadResult } from "./merge.js";
import { bisectHtml, bisectMarkdown } from "./bisect-section.js";
import { engineTwinsMarkdown } from "./engine-twins-section.js";
import type { BisectFile } from "../results/bisect.js";

const MARKDOWN_LIMIT = 1024 * 1024 - 4096;

/** report.md: the summary table, fit for a README or $GITHUB_STEP_SUMMARY; details stay in index.html. */
export function renderMarkdownReport(
  results: readonly CellResult[],
  generatedAt: string,
  bisects: readonly BisectFile[] = [],
): string {
  const counts = [...new Set(results.map((r) => r.status))]
    .map((s) => `${results.filter((r) => r.status === s).length} ${s}`)
    .join(", ");
  const twins = engineTwinsMarkdown(results);
  const head = `# fwcompat compatibility report\n\n${results.length} cells (${counts}), generated ${generatedAt}. Per-cell evidence: \`index.html#cell-<id>\`.\n\n${bisects.map(bisectMarkdown).join("\n")}${twins ? `${twins}\n` : ""}`;
  const table = results.length ? renderSummary(results) : "";
  if (Buffer.byteLength(head + table) <= MARKDOWN_LIMIT) return `${head}${table}\n`;
  const lines = table.split("\n");
  const kept: string[] = [];
  let bytes = Buffer.byteLength(head);
  for (const line of lines) {
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > MARKDOWN_LIMIT) break;
    kept.push(line);
  }
  return `${head}${kept.join("\n")}\n\n_${lines.length - kept.length} more rows in index.html (GitHub's summary limit is 1 MiB)._\n`;
}

export interface ReportOptions {
  out: string;
  updateGoldens: boolean;
  goldensDir?: string;
}

export interface WrittenReport {
  cells: number;
  bisects: number;
  goldensWritten: string[];
  files: string[];
  /** results left out (unreadable files) or rendered without part of their evidence (rules that could not be judged) */
  unread: UnreadResult[];
}

/** Golden diffs of the cells whose rules can be judged; a cell whose rules cannot be parsed is named instead. */
async function goldenDiffs(
  cells: readonly CellResult[],
  goldensDir: string,
  unread: UnreadResult[],
): Promise<Map<string, GoldenDiff>> {
  const diffs = new Map<string, GoldenDiff>();
  for (const cell of cells) {
    try {
      const diff = await diffAgainstGolden(cell, goldensDir);
      if (diff) diffs.set(cell.cell.id, diff);
    } catch (error) {
      unread.push({
        source: cell.cell.id,
        reason: `its rules could not be judged against the golden (${(error as Error).message.split("\n")[0]})`,
      });
    }
  }
  return diffs;
}

/** The report's files of merged results (golden diffs read from goldensDir), and what it left out. */
export async function renderReport(
  merged: MergedResults,
  bisects: readonly BisectFile[],
  goldensDir: string,
  unreadFiles: readonly UnreadResult[] = [],
): Promise<{
  files: Record<"results.json" | "index.html" | "report.md" | "junit.xml", string>;
  unread: UnreadResult[];
}> {
  const unread = [...unreadFiles];
  const cellIds = new Set(merged.cells.map((c) => c.cell.id));
  const diffs = await goldenDiffs(merged.cells, goldensDir, unread);
  const page = renderHtmlPage(merged.cells, diffs, merged.generatedAt, {
    sections: bisects.map((b) => bisectHtml(b, cellIds)),
    unread,
  });
  return {
    files: {
      "results.json": `${JSON.stringify(merged, null, 2)}\n`,
      "index.html": page.html,
      "report.md": renderMarkdownReport(merged.cells, merged.generatedAt, bisects),
      "junit.xml": renderJunit(merged.cells),
    },
    unread: page.unread,
  };
}

export async function writeReport(dirs: readonly string[], options: ReportOptions): Promise<WrittenReport> {
  const { merged, unread } = await readResults(dirs);
  const bisects = await bisectsOf(dirs);
  const goldensDir = options.goldensDir ?? DEFAULT_GOLDENS_DIR;
  const goldensWritten = options.updateGoldens ? await updateGoldens(merged.cells, goldensDir) : [];
  const report = await renderReport(merged, bisects, goldensDir, unread);
  await mkdir(options.out, { recursive: true });
  for (const [name, content] of Object.entries(report.files)) await writeAtomically(join(options.out, name), content);
  return {
    cells: merged.cells.length,
    bisects: bisects.length,
    goldensWritten,
    files: Object.keys(report.files).map((f) => join(options.out, f)),
    unread: report.unread,
  };
}
