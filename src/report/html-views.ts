import type { CellResult } from "../results/schema.js";
import { OVERALL_VERDICTS, VERDICT_COLUMNS } from "../results/schema.js";
import { vantageStates } from "../results/verdicts.js";
import { anchor, combinationLabel, scenarioOf, securityFindingsOf, uniq, VANTAGE_LETTERS } from "./html-common.js";
import type { UnreadResult } from "./merge.js";
import { markup, type Html } from "./template.js";

const verdictOf = (r: CellResult) => vantageStates(r.baseline ?? { probes: [], userActions: [] });

/** Failing vantages only: a healthy cell shows none, so the eye lands on what broke. */
function failingBadges(r: CellResult): Html[] {
  const byVantage = verdictOf(r);
  return VERDICT_COLUMNS.filter((v) => byVantage.get(v) === false).map(
    (v) => markup`<span class="v fail" title="${v}: not as expected">${VANTAGE_LETTERS[v]}</span>`,
  );
}

/** What the upgrade view compares (as `fwcompat compare` does): the status, each vantage and each fix's verdict. */
const comparable = (r: CellResult): string =>
  JSON.stringify({
    status: r.status,
    vantages: Object.fromEntries([...verdictOf(r)].map(([v, pass]) => [v, pass ? "ok" : "broken"])),
    fixes: Object.fromEntries(r.fixes.map((f) => [f.verdict.fix, f.verdict.overall])),
  });

function cellChip(r: CellResult): Html {
  const security = securityFindingsOf(r).length;
  return markup`<a class="cell-link ${r.status}" href="#${anchor(r)}" data-cell data-id="${r.cell.id}" data-scenario="${scenarioOf(r)}" data-status="${r.status}" data-engine="${r.cell.engine}" data-iptables="${r.cell.iptables}" data-backend="${r.cell.backend}" data-daemon="${r.cell.daemon}" data-topology="${r.cell.topology}" data-provider="${r.cell.provider}" data-verdict="${comparable(r)}"><span class="status">${r.status}</span> ${scenarioOf(r)} ${failingBadges(r)}${security ? markup`<span class="sec" title="${security} security finding(s)">SECURITY</span>` : ""}</a>`;
}

const countsOf = (results: readonly CellResult[]) =>
  uniq(results.map((r) => r.status)).map((s) => `${results.filter((r) => r.status === s).length} ${s}`);

/** One row per combination a cell ran on (engine × iptables build × backend × daemon options × lane), holding only the scenarios it ran. */
export function matrixTable(results: readonly CellResult[]): Html {
  const rowKey = (r: CellResult) =>
    JSON.stringify([r.cell.engine, r.cell.iptables, r.cell.backend, r.cell.daemon, r.cell.provider]);
  const rows = uniq(results.map(rowKey)).map((key) =>
    results.filter((r) => rowKey(r) === key).sort((a, b) => scenarioOf(a).localeCompare(scenarioOf(b))),
  );
  const body = rows.map((cells) => {
    const [first] = cells as [CellResult];
    const lane = first.cell.provider === "dind" ? "" : markup` <small>[${first.cell.provider} VM]</small>`;
    return markup`<tr data-row data-engine="${first.cell.engine}" data-iptables="${first.cell.iptables}" data-backend="${first.cell.backend}" data-daemon="${first.cell.daemon}"><th>${first.cell.engine}${lane}<br><small>iptables ${first.cell.iptables} (${first.cell.backend}) · ${first.cell.daemon}</small><br><small class="counts">${countsOf(cells).join(", ")}</small></th><td class="cells"><div class="chips">${cells.map(cellChip)}</div></td></tr>\n`;
  });
  return markup`<table class="matrix"><thead><tr><th>engine / iptables / daemon</th><th>scenarios run (status, failing vantages)</th></tr></thead><tbody>${body}</tbody></table>`;
}

const select = (name: string, values: readonly string[], chosen = ""): Html =>
  markup`<label>${name}<select name="${name}"><option value="">all</option>${values.map((v) => markup`<option${v === chosen ? markup` selected` : ""}>${v}</option>`)}</select></label>`;

export function filters(results: readonly CellResult[]): Html {
  const values = (pick: (r: CellResult) => string) => uniq(results.map(pick));
  return markup`<div class="filters">${[
    select(
      "engine",
      values((r) => r.cell.engine),
    ),
    select(
      "iptables",
      values((r) => r.cell.iptables),
    ),
    select(
      "backend",
      values((r) => r.cell.backend),
    ),
    select(
      "daemon",
      values((r) => r.cell.daemon),
    ),
    select("scenario", values(scenarioOf)),
    select(
      "status",
      values((r) => r.status),
    ),
  ]}<span class="shown"><b id="shown-count">${results.length}</b> of ${results.length} cells shown</span></div>`;
}

/** Security findings first: every cell where traffic a policy or Docker's isolation must block got through. */
export function securitySection(results: readonly CellResult[]): Html | undefined {
  const flagged = results.filter((r) => securityFindingsOf(r).length);
  if (!flagged.length) return undefined;
  const items = flagged.map(
    (r) =>
      markup`<li><a href="#${anchor(r)}">${scenarioOf(r)} · ${combinationLabel(r)}</a><ul>${securityFindingsOf(r).map((f) => markup`<li>${f}</li>`)}</ul></li>`,
  );
  return markup`<section id="security" class="security-first"><h2>Security findings: ${flagged.length} cell(s)</h2><ul>${items}</ul></section>`;
}

/** The result files left out, named: the rest of the page is rendered without them. */
export function unreadSection(unread: readonly UnreadResult[]): Html | undefined {
  if (!unread.length) return undefined;
  return markup`<section id="not-rendered" class="problems"><h2>${unread.length} result(s) could not be read or judged</h2><ul>${unread.map((u) => markup`<li><code>${u.source}</code>: ${u.reason}</li>`)}</ul></section>`;
}

/** The order fix verdicts are counted in: the schema's own order, best first. */
export const FIX_VERDICT_ORDER = OVERALL_VERDICTS;

/** "repaired 4/4": of the cells the fix applied to; not-applicable counts stand alone (the cell had nothing to fix). */
export const fixCount = (verdict: string, cells: number, applicable: number): string =>
  verdict === "not-applicable" ? `${verdict} ${cells}` : `${verdict} ${cells}/${applicable}`;

/** "Which fix works?": per scenario and fix, how many cells gave each verdict, each count opening the list of its cells. */
export function fixView(results: readonly CellResult[]): Html | undefined {
  const pairs = uniq(results.flatMap((r) => r.fixes.map((f) => JSON.stringify([scenarioOf(r), f.verdict.fix]))));
  if (!pairs.length) return undefined;
  const rows = pairs.map((pair) => {
    const [scenario, fix] = JSON.parse(pair) as [string, string];
    const judged = results.flatMap((r) =>
      scenarioOf(r) === scenario
        ? r.fixes.filter((f) => f.verdict.fix === fix).map((f) => ({ r, overall: f.verdict.overall }))
        : [],
    );
    const applicable = judged.filter((j) => j.overall !== "not-applicable").length;
    const verdicts = FIX_VERDICT_ORDER.filter((v) => judged.some((j) => j.overall === v)).map((v) => {
      const cells = judged.filter((j) => j.overall === v);
      return markup`<details class="verdict"><summary class="fix ${v}" data-verdict="${v}">${fixCount(v, cells.length, applicable)}</summary><ul>${cells.map(({ r }) => markup`<li><a href="#${anchor(r)}">${combinationLabel(r)}</a></li>`)}</ul></details>`;
    });
    return markup`<tr data-scenario="${scenario}" data-fix="${fix}"><td>${scenario}</td><td>${fix}</td><td><div class="verdicts">${verdicts}</div></td></tr>\n`;
  });
  return markup`<section id="fix-view"><h2>Which fix works?</h2><p class="meta">Each fix's verdicts across the cells it applied to (repaired 2/2: both cells where the scenario broke something were repaired); open a count for its cells.</p><table class="fixes"><thead><tr><th>scenario</th><th>fix</th><th>verdicts across cells</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

const UPGRADE_DIMENSIONS = ["engine", "iptables", "backend", "daemon"] as const;
type Combination = Record<(typeof UPGRADE_DIMENSIONS)[number], string>;

const combinationOf = (r: CellResult): Combination => ({
  engine: r.cell.engine,
  iptables: r.cell.iptables,
  backend: r.cell.backend,
  daemon: r.cell.daemon,
});
/** Where a cell ran, apart from its combination: what two combinations can be compared on. */
const placeOf = (r: CellResult) => `${r.cell.scenario}:${r.cell.variant ?? ""} ${r.cell.topology} ${r.cell.provider}`;

/**
 * The first choice offered: the upgrade of one dimension (to a value listed after the current one)
 * that the most cells ran on both sides of, so the view opens on a comparison with something in it;
 * ties go to the earlier dimension and the earlier pair. Without any such pair: the first cell's
 * combination, its first varying dimension upgraded to that dimension's last value.
 */
function defaultUpgrade(
  results: readonly CellResult[],
  first: CellResult,
): { current: Combination; candidate: Combination } {
  const places = new Map<string, { combination: Combination; places: Set<string> }>();
  for (const r of results) {
    const key = JSON.stringify(combinationOf(r));
    const entry = places.get(key) ?? { combination: combinationOf(r), places: new Set<string>() };
    entry.places.add(placeOf(r));
    places.set(key, entry);
  }
  const combinations = [...places.values()];
  let best: { current: Combination; candidate: Combination; shared: number } | undefined;
  for (const dimension of UPGRADE_DIMENSIONS) {
    const order = uniq(results.map((r) => r.cell[dimension]));
    for (const from of combinations)
      for (const to of combinations) {
        const oneStep = UPGRADE_DIMENSIONS.every(
          (d) => (d === dimension) !== (from.combination[d] === to.combination[d]),
        );
        if (!oneStep || order.indexOf(to.combination[dimension]) < order.indexOf(from.combination[dimension])) continue;
        const shared = [...from.places].filter((p) => to.places.has(p)).length;
        if (shared > (best?.shared ?? 0)) best = { current: from.combination, candidate: to.combination, shared };
      }
  }
  if (best) return best;
  const current = combinationOf(first);
  const dimension = UPGRADE_DIMENSIONS.find((d) => uniq(results.map((r) => r.cell[d])).length > 1);
  const last = dimension && uniq(results.map((r) => r.cell[dimension])).at(-1);
  return { current, candidate: dimension && last ? { ...current, [dimension]: last } : current };
}

/** "What changes if I upgrade X to Y?": the page's script fills the table from the matrix's cells. */
export function upgradeView(results: readonly CellResult[]): Html | undefined {
  if (results.length < 2) return undefined;
  const first = results[0] as CellResult;
  const side = (name: "current" | "candidate", chosen: Record<(typeof UPGRADE_DIMENSIONS)[number], string>) =>
    markup`<fieldset data-side="${name}"><legend>${name}</legend>${UPGRADE_DIMENSIONS.map(
      (d) =>
        markup`<label>${d}<select name="${name}-${d}" data-dimension="${d}">${uniq(results.map((r) => r.cell[d])).map((v) => markup`<option${v === chosen[d] ? markup` selected` : ""}>${v}</option>`)}</select></label>`,
    )}</fieldset>`;
  const { current, candidate } = defaultUpgrade(results, first);
  return markup`<section id="upgrade-view"><h2>What changes if I upgrade?</h2><div class="upgrade-choice">${side("current", current)}<span class="arrow">↓ upgraded to</span>${side("candidate", candidate)}</div>
<p id="upgrade-summary" class="meta"></p>
<table class="upgrade"><thead><tr><th>scenario</th><th>topology · lane</th><th>current</th><th>candidate</th><th>what differs</th></tr></thead><tbody></tbody></table></section>`;
}
