import { scenarioLabel } from "../config/expand.js";
import type { CellResult } from "../results/schema.js";
import type { GoldenDiff } from "./goldens.js";
import { SCRIPT, STYLE } from "./html-assets.js";
import { twinAgreement, twinEvidence, twinOf } from "./twins.js";
import { countsLine, describeAction, vantageStates } from "../results/verdicts.js";
import { USER_ACTION, VERDICT_COLUMNS } from "../results/schema.js";

/** Everything rendered passes through here: container output and rule text are data, never markup. */
export function esc(value: unknown): string {
  return String(value ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
}

const VANTAGE_LETTERS: Record<(typeof VERDICT_COLUMNS)[number], string> = {
  localhost: "L",
  "host-ip": "H",
  external: "E",
  "cross-network": "X",
  "foreign-bridged": "B",
  "foreign-routed": "R",
  hairpin: "P",
  [USER_ACTION]: "U",
};
const scenarioOf = (r: CellResult) => scenarioLabel(r.cell);
const anchor = (r: CellResult) => `cell-${r.cell.id}`;
const uniq = (xs: string[]) => [...new Set(xs)].sort();

function vantageBadges(r: CellResult): string {
  const byVantage = vantageStates(r.baseline ?? { probes: [], userActions: [] });
  return VERDICT_COLUMNS.filter((v) => byVantage.has(v))
    .map((v) => {
      const pass = byVantage.get(v) === true;
      return `<span class="v ${pass ? "pass" : "fail"}" title="${esc(v)}: ${pass ? "as expected" : "not as expected"}">${esc(VANTAGE_LETTERS[v])}</span>`;
    })
    .join("");
}

function matrixCell(r: CellResult | undefined): string {
  if (!r) return `<td class="cell"></td>`;
  const fixes = r.fixes
    .map((f) => {
      const counts = f.verdict.overall === "partial" ? ` (${countsLine(f.verdict)})` : "";
      return `<span class="fix ${esc(f.verdict.overall)}">${esc(f.verdict.fix)}: ${esc(f.verdict.overall)}${esc(counts)}</span>`;
    })
    .join("");
  const why =
    r.status !== "works" && (r.explanation || r.reason)
      ? `<div class="why">${esc((r.explanation || r.reason || "").slice(0, 220))}</div>`
      : "";
  const security = r.securityFindings?.length
    ? `<div class="security">SECURITY: ${esc(r.securityFindings.length)} finding(s)</div>`
    : "";
  return (
    `<td class="cell" data-col data-scenario="${esc(scenarioOf(r))}" data-daemon="${esc(r.cell.daemon)}" data-status="${esc(r.status)}">` +
    `<a class="cell-link ${esc(r.status)}" href="#${esc(anchor(r))}"><span class="status">${esc(r.status)}</span> ${vantageBadges(r)}${fixes}${security}${why}</a></td>`
  );
}

/** Rows: engine × iptables build × backend. Columns: scenario × daemon option. */
function matrixTable(results: readonly CellResult[]): string {
  // the provider is part of the row: a VM cell and its dind twin must not share a table cell
  const rowKey = (r: CellResult) => `${r.cell.engine}\0${r.cell.iptables}\0${r.cell.backend}\0${r.cell.provider}`;
  const colKey = (r: CellResult) => `${scenarioOf(r)}\0${r.cell.daemon}`;
  const rows = uniq(results.map(rowKey));
  const cols = uniq(results.map(colKey));
  const byKey = new Map(results.map((r) => [`${rowKey(r)}\x01${colKey(r)}`, r]));
  const head = cols
    .map((c) => {
      const [scenario = "", daemon = ""] = c.split("\0");
      return `<th data-col data-scenario="${esc(scenario)}" data-daemon="${esc(daemon)}">${esc(scenario)}<br><small>${esc(daemon)}</small></th>`;
    })
    .join("");
  const body = rows
    .map((row) => {
      const [engine = "", iptables = "", backend = "", provider = ""] = row.split("\0");
      const cells = cols.map((c) => matrixCell(byKey.get(`${row}\x01${c}`))).join("");
      const lane = provider === "dind" ? "" : ` <small>[${esc(provider)} VM]</small>`;
      return `<tr data-row data-engine="${esc(engine)}" data-iptables="${esc(iptables)}" data-backend="${esc(backend)}"><th>${esc(engine)}${lane}<br><small>iptables ${esc(iptables)} (${esc(backend)})</small></th>${cells}</tr>`;
    })
    .join("\n");
  return `<table class="matrix"><thead><tr><th>engine / iptables</th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function filters(results: readonly CellResult[]): string {
  const select = (name: string, values: string[]) =>
    `<label>${esc(name)}<select name="${esc(name)}"><option value="">all</option>${values.map((v) => `<option>${esc(v)}</option>`).join("")}</select></label>`;
  return `<div class="filters">${[
    select("engine", uniq(results.map((r) => r.cell.engine))),
    select("iptables", uniq(results.map((r) => r.cell.iptables))),
    select("backend", uniq(results.map((r) => r.cell.backend))),
    select("scenario", uniq(results.map(scenarioOf))),
    select("daemon", uniq(results.map((r) => r.cell.daemon))),
    select("status", uniq(results.map((r) => r.status))),
  ].join("")}</div>`;
}

/** A build from git: its commit, `git describe`, date and subject. */
const commitRow = (ev: NonNullable<CellResult["baseline"]>["evidence"]): Array<[string, unknown]> =>
  ev?.iptablesCommit
    ? [
        [
          "commit",
          `${ev.iptablesCommit.commit} (${ev.iptablesCommit.describe}, ${ev.iptablesCommit.date}): ${ev.iptablesCommit.subject}`,
        ],
      ]
    : [];

const pre = (text: string | undefined, max = 20_000) => `<pre>${esc((text ?? "").slice(-max) || "(none)")}</pre>`;

function twinLine(r: CellResult, all: readonly CellResult[]): string {
  const twin = twinOf(r, all);
  if (!twin) return "";
  const { agrees, differing } = twinAgreement(r, twin);
  const verdict = agrees
    ? "agrees"
    : `differs (${differing.length ? `vantages: ${differing.join(", ")}` : `status ${r.status} vs ${twin.status}`})`;
  const note = `<p><b>${esc(twin.cell.provider)} twin:</b> <a href="#${esc(anchor(twin))}">${esc(twin.status)}</a> — ${esc(verdict)}</p>`;
  return agrees ? note : `${note}<pre class="twin-evidence">${esc(twinEvidence(r, twin).join("\n"))}</pre>`;
}

const countOf = (verdict: CellResult["fixes"][number]["verdict"], vantage: string) => {
  const c = verdict.counts?.[vantage];
  return c && c.broken > 0 ? ` ${c.repaired}/${c.broken}` : "";
};
function securityList(r: CellResult): string {
  const all = [
    ...(r.baseline?.securityFindings ?? []).map((f) => `baseline: ${f}`),
    ...r.fixes.flatMap((x) => (x.attempt.securityFindings ?? []).map((f) => `after ${x.verdict.fix}: ${f}`)),
  ];
  return all.length
    ? `<div class="security"><b>Security findings</b><ul>${all.map((f) => `<li>${esc(f)}</li>`).join("")}</ul></div>`
    : "";
}

function detail(r: CellResult, golden: GoldenDiff | undefined, all: readonly CellResult[]): string {
  const b = r.baseline;
  const ev = b?.evidence;
  const kv = (pairs: Array<[string, unknown]>) =>
    `<table class="kv">${pairs.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join("")}</table>`;
  const probes = (b?.probes ?? [])
    .map(
      (p) =>
        `<tr class="${p.pass ? "" : "reproduced"}"><td>${esc(p.vantage)}</td><td>${esc(p.target)}</td><td>${esc(p.expect)}</td><td>${esc(p.outcome)}</td><td>${esc(p.ms)} ms</td><td>${esc(p.detail)}</td></tr>`,
    )
    .join("");
  const fixes = r.fixes
    .map(
      (f) =>
        `<tr><td>${esc(f.verdict.fix)}</td><td class="fix ${esc(f.verdict.overall)}">${esc(f.verdict.overall)}</td><td>${esc(
          Object.entries(f.verdict.vantages)
            .map(([v, x]) => `${v}: ${x}${countOf(f.verdict, v)}`)
            .join(", "),
        )}</td>` +
        `<td>${esc([f.verdict.reason, f.attempt.fixNote ?? f.attempt.reason].filter(Boolean).join(" — "))}</td><td>${esc(f.verdict.restoredRules?.length ?? "–")}</td></tr>`,
    )
    .join("");
  const goldenDiff = golden
    ? `<h3>Diff against golden ${esc(golden.golden)}</h3><pre>${[...golden.missing.map((l) => `<span class="missing">- ${esc(l)}</span>`), ...golden.extra.map((l) => `<span class="extra">+ ${esc(l)}</span>`)].join("\n") || "identical"}</pre>`
    : "";
  const actions = (b?.userActions ?? [])
    .map(
      (a) =>
        `<tr class="${a.ok ? "" : "reproduced"}"><td>${esc(a.when)}</td><td>${esc(a.action)}</td><td>${a.ok ? "ok" : esc(describeAction(a))}</td></tr>`,
    )
    .join("");
  const errors = (b?.errors ?? []).map((e) => `${e.step} [${e.signature}]: ${e.text}`).join("\n");
  return `<details class="cell-detail" id="${esc(anchor(r))}" data-engine="${esc(r.cell.engine)}" data-iptables="${esc(r.cell.iptables)}" data-backend="${esc(r.cell.backend)}" data-scenario="${esc(scenarioOf(r))}" data-daemon="${esc(r.cell.daemon)}" data-status="${esc(r.status)}">
<summary><span class="status ${esc(r.status)}">${esc(r.status)}</span> ${esc(scenarioOf(r))} · ${esc(r.cell.provider)} · ${esc(r.cell.engine)} · iptables ${esc(r.cell.iptables)} (${esc(r.cell.backend)}) · ${esc(r.cell.daemon)} · ${esc(r.cell.topology)}</summary>
${r.explanation || r.reason ? `<p><b>Why:</b> ${esc(r.explanation || r.reason)}</p>` : ""}
${securityList(r)}
${twinLine(r, all)}
${r.repeats ? `<p><b>Repeats:</b> ${esc(r.repeats.agreeing)}/${esc(r.repeats.count)} agree${r.repeats.outcomes.length > 1 ? `: ${esc(r.repeats.outcomes.map((o) => `${o.count}× ${o.verdict}${o.probeOrders?.length ? ` [probe orders: ${o.probeOrders.join(" | ")}]` : ""}`).join(" | "))}` : ""}</p>` : ""}
${ev ? kv([["iptables", ev.iptablesVersion], ["package", ev.iptablesPackage], ...commitRow(ev), ["backend", ev.backend], ["dockerd", ev.dockerdVersion], ["firewall backend (docker info)", ev.firewallBackend ?? "–"], ...(ev.engineBuild ? [["engine built from", `${ev.engineBuild.tag} (${ev.engineBuild.commit}) with ${ev.engineBuild.go}`] as [string, unknown]] : []), ["-C self-probe", ev.checkProbe], ["ip_forward at start / after dockerd", `${ev.ipForward.atStart} / ${ev.ipForward.afterDockerd}`], ["kernel", ev.kernel], ["host", ev.hostMode], ["cgroup", ev.cgroup], ["timings (ms)", JSON.stringify(b?.timingsMs ?? {})]]) : ""}
${probes ? `<h3>Probes (baseline)</h3><table><tr><th>vantage</th><th>target</th><th>expect</th><th>outcome</th><th>time</th><th>detail</th></tr>${probes}</table>` : ""}
${b?.probeOrder ? `<p><b>Launch order:</b> ${esc(b.probeOrder.vantages.join(" → "))} (seed ${esc(b.probeOrder.seed)}, repeat ${esc(b.probeOrder.repeat)}; every vantage probed at once, after each target's neighbour entry was pinned)</p>` : ""}
${actions ? `<h3>User actions (baseline)</h3><table><tr><th>when</th><th>action</th><th>result</th></tr>${actions}</table>` : ""}
${fixes ? `<h3>Fixes</h3><table><tr><th>fix</th><th>verdict</th><th>per vantage</th><th>note</th><th>skipped rules restored</th></tr>${fixes}</table>` : ""}
${b?.missingRules.length ? `<h3>Missing rules</h3><pre>${b.missingRules.map((m) => `<span class="missing">${esc(m)}</span>`).join("\n")}</pre>` : ""}
${b?.trace?.skippedRules.length ? `<h3>Rules skipped after a wrong -C answer</h3>${pre(b.trace.skippedRules.map((s) => `${s.rule}${s.confirmedMissing ? "" : "  (present at probe time)"}`).join("\n"))}` : ""}
${errors ? `<h3>Captured errors</h3>${pre(errors)}` : ""}
${goldenDiff}
${b ? `<h3>Rules before the break</h3>${pre(b.rules.beforeBreak)}<h3>Rules at probe time</h3>${pre(b.rules.final)}` : ""}
${b?.rules.nftFinal ? `<h3>nft list ruleset before the break</h3>${pre(b.rules.nftBeforeBreak)}<h3>nft list ruleset at probe time</h3>${pre(b.rules.nftFinal)}` : ""}
${b ? `<h3>dockerd log (tail)</h3>${pre(b.dockerdLog)}` : ""}
</details>`;
}

/** `sections`: further rendered sections (e.g. bisects), placed above the matrix. */
export function renderHtml(
  results: readonly CellResult[],
  goldens: ReadonlyMap<string, GoldenDiff>,
  generatedAt: string,
  sections: readonly string[] = [],
): string {
  const counts = uniq(results.map((r) => r.status)).map((s) => `${results.filter((r) => r.status === s).length} ${s}`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fwcompat compatibility report</title><style>${STYLE}</style></head>
<body>
<h1>Docker × iptables compatibility</h1>
<div class="meta">${esc(results.length)} cells: ${esc(counts.join(", "))} · generated ${esc(generatedAt)} · ${esc(VERDICT_COLUMNS.map((v) => `${VANTAGE_LETTERS[v]} ${v}`).join(", "))} (cross-network must be blocked; foreign-bridged/-routed: a VM on a foreign bridge; user-action: the user's own docker run -p and docker network create)</div>
${sections.join("\n")}
${results.length ? `${filters(results)}\n${matrixTable(results)}\n<h2>Cells</h2>` : ""}
${results.map((r) => detail(r, goldens.get(r.cell.id), results)).join("\n")}
<script>${SCRIPT}</script>
</body></html>`;
}
