import { VERDICT_COLUMNS, type CellResult } from "../results/schema.js";
import type { GoldenDiff } from "./goldens.js";
import { CONTENT_SECURITY_POLICY, SCRIPT, STYLE } from "./html-assets.js";
import { uniq, VANTAGE_LETTERS } from "./html-common.js";
import { engineTwinsHtml } from "./engine-twins-section.js";
import { cellDetail } from "./html-detail.js";
import { filters, fixView, matrixTable, securitySection, unreadSection, upgradeView } from "./html-views.js";
import type { UnreadResult } from "./merge.js";
import { markup, trusted, type Html } from "./template.js";

export interface HtmlPage {
  /** further rendered sections (e.g. bisects), placed above the matrix */
  sections?: readonly Html[];
  /** result files left out, named at the top of the page */
  unread?: readonly UnreadResult[];
}

/** The drill-down, or the reason it could not be rendered (one bad cell never takes the page down). */
function detailOrProblem(
  r: CellResult,
  golden: GoldenDiff | undefined,
  all: readonly CellResult[],
  unread: UnreadResult[],
): Html {
  try {
    return cellDetail(r, golden, all);
  } catch (error) {
    const reason = `its evidence could not be rendered (${(error as Error).message.split("\n")[0]})`;
    unread.push({ source: r.cell.id, reason });
    return markup`<details class="cell-detail" id="cell-${r.cell.id}"><summary><span class="status ${r.status}">${r.status}</span> ${r.cell.id}</summary><p>${reason}</p></details>`;
  }
}

/** The page, and every result it names as left out (those given, and cells whose evidence could not be rendered). */
export function renderHtmlPage(
  results: readonly CellResult[],
  goldens: ReadonlyMap<string, GoldenDiff>,
  generatedAt: string,
  page: HtmlPage = {},
): { html: string; unread: UnreadResult[] } {
  const unread = [...(page.unread ?? [])];
  const details = results.map((r) => detailOrProblem(r, goldens.get(r.cell.id), results, unread));
  const counts = uniq(results.map((r) => r.status)).map((s) => `${results.filter((r) => r.status === s).length} ${s}`);
  const fixes = fixView(results);
  const upgrade = upgradeView(results);
  const legend = VERDICT_COLUMNS.map((v) => `${VANTAGE_LETTERS[v]} ${v}`).join(", ");
  const written = markup`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}"><meta name="viewport" content="width=device-width, initial-scale=1"><title>fwcompat compatibility report</title><style>${trusted(STYLE)}</style></head>
<body>
<h1>Docker × iptables compatibility</h1>
<div class="meta">${results.length} cells: ${counts.join(", ")} · generated ${generatedAt} · failing vantages: ${legend} (cross-network must be blocked; foreign-bridged/-routed: a VM on a foreign bridge; user-action: the user's own docker run -p and docker network create)</div>
${results.length ? markup`<nav class="views"><a href="#matrix">Matrix</a>${fixes ? markup`<a href="#fix-view">Which fix works?</a>` : ""}${upgrade ? markup`<a href="#upgrade-view">What changes if I upgrade?</a>` : ""}<a href="#cells">Cells</a></nav>` : ""}
${unreadSection(unread)}
${securitySection(results)}
${page.sections ?? []}${engineTwinsHtml(results) ?? ""}
${results.length ? markup`<section id="matrix"><h2>Is my combination safe?</h2>${filters(results)}\n${matrixTable(results)}</section>\n${fixes}\n${upgrade}\n<h2 id="cells">Cells</h2>` : ""}
${details.map((d) => markup`${d}\n`)}
<script>${trusted(SCRIPT)}</script>
</body></html>`;
  return { html: written.toString(), unread };
}

export const renderHtml = (...args: Parameters<typeof renderHtmlPage>): string => renderHtmlPage(...args).html;
