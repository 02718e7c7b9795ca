import type { CellResult } from "../results/schema.js";
import { countsLine, describeAction } from "../results/verdicts.js";
import { chainNote } from "../results/markdown.js";
import { hostEnvironmentLine, hostOfCell } from "../results/host-environment.js";
import type { GoldenDiff } from "./goldens.js";
import { anchor, scenarioOf, securityFindingsOf } from "./html-common.js";
import { markup, joined, type Html } from "./template.js";
import { twinAgreement, twinEvidence, twinOf } from "./twins.js";
import { differenceLine, engineTwinComparisons } from "./engine-twins.js";

type Evidence = NonNullable<NonNullable<CellResult["baseline"]>["evidence"]>;

/** The longest tail of one text (a log, a rule set) a drill-down shows; the whole text stays in results.json. */
export const PRE_LIMIT = 16_000;

const NL = markup`\n`;
const pre = (text: string | undefined, max = PRE_LIMIT): Html =>
  markup`<pre>${(text ?? "").slice(-max) || "(none)"}</pre>`;
const kv = (pairs: ReadonlyArray<readonly [string, unknown]>): Html =>
  markup`<table class="kv">${pairs.map(([k, v]) => markup`<tr><td>${k}</td><td>${String(v ?? "")}</td></tr>`)}</table>`;

/** A build from git: its commit, `git describe`, date and subject. */
const commitRow = (ev: Evidence): Array<[string, unknown]> =>
  ev.iptablesCommit
    ? [
        [
          "commit",
          `${ev.iptablesCommit.commit} (${ev.iptablesCommit.describe}, ${ev.iptablesCommit.date}): ${ev.iptablesCommit.subject}`,
        ],
        ...(ev.iptablesPatches ?? []).map((p): [string, unknown] => ["cherry-picked", `${p.commit}: ${p.subject}`]),
      ]
    : [];

/** What the host's own userland holds, as fwcompat-userland found it (own host images above all). */
const userlandRows = (ev: Evidence): Array<[string, unknown]> =>
  ev.userland
    ? [
        ["os-release", ev.userland.os],
        ...ev.userland.tools.map((t): [string, unknown] => [
          t.tool,
          `${t.path}${t.resolved !== t.path ? ` -> ${t.resolved}` : ""}: ${t.version} (${t.package})`,
        ]),
        ...ev.userland.alternatives.map((a): [string, unknown] => [`alternative ${a.name}`, a.target]),
      ]
    : [];

function evidenceTable(ev: Evidence, timings: Record<string, number>): Html {
  return kv([
    ["iptables", ev.iptablesVersion],
    ["package", ev.iptablesPackage],
    ...commitRow(ev),
    ["backend", ev.backend],
    ["dockerd", ev.dockerdVersion],
    ["firewall backend (docker info)", ev.firewallBackend ?? "–"],
    ...(ev.engineBuild
      ? [["engine built from", `${ev.engineBuild.tag} (${ev.engineBuild.commit}) with ${ev.engineBuild.go}`] as const]
      : []),
    ...userlandRows(ev),
    ["-C self-probe", ev.checkProbe],
    ["ip_forward at start / after dockerd", `${ev.ipForward.atStart} / ${ev.ipForward.afterDockerd}`],
    ["kernel", ev.kernel],
    ["host", ev.hostMode],
    ["cgroup", ev.cgroup],
    ["timings (ms)", JSON.stringify(timings)],
  ]);
}

/** The kernel the cell's hosts ran on, as read before dockerd started (nothing for older results). */
const kernelLine = (r: CellResult): Html | undefined =>
  r.kernel
    ? markup`<p><b>Kernel:</b> ${r.kernel.release}: legacy xtables ${r.kernel.legacyXtables}, nf_tables ${r.kernel.nfTables} <span class="kernel-detail">(${r.kernel.detail})</span></p>`
    : undefined;

/** Where the cell's host ran, in words ("not recorded" where older results lack it); nothing for a cell that started no host. */
function hostLine(r: CellResult): Html | undefined {
  const host = hostOfCell(r);
  return host ? markup`<p class="host-environment"><b>Host:</b> ${hostEnvironmentLine(host)}</p>` : undefined;
}

function twinLine(r: CellResult, all: readonly CellResult[]): Html | undefined {
  const twin = twinOf(r, all);
  if (!twin) return undefined;
  const { agrees, differing } = twinAgreement(r, twin);
  const verdict = agrees
    ? "agrees"
    : `differs (${differing.length ? `vantages: ${differing.join(", ")}` : `status ${r.status} vs ${twin.status}`})`;
  const note = markup`<p><b>${twin.cell.provider} twin:</b> <a href="#${anchor(twin)}">${twin.status}</a> — ${verdict}</p>`;
  return agrees ? note : markup`${note}<pre class="twin-evidence">${twinEvidence(r, twin).join("\n")}</pre>`;
}

const countOf = (verdict: CellResult["fixes"][number]["verdict"], vantage: string) => {
  const c = verdict.counts?.[vantage];
  return c && c.broken > 0 ? ` ${c.repaired}/${c.broken}` : "";
};

function securityList(r: CellResult): Html | undefined {
  const all = securityFindingsOf(r);
  return all.length
    ? markup`<div class="security"><b>Security findings</b><ul>${all.map((f) => markup`<li>${f}</li>`)}</ul></div>`
    : undefined;
}

function repeatsLine(r: CellResult): Html | undefined {
  if (!r.repeats) return undefined;
  const outcomes = r.repeats.outcomes.map(
    (o) => `${o.count}× ${o.verdict}${o.probeOrders?.length ? ` [probe orders: ${o.probeOrders.join(" | ")}]` : ""}`,
  );
  return markup`<p><b>Repeats:</b> ${r.repeats.agreeing}/${r.repeats.count} agree${r.repeats.outcomes.length > 1 ? markup`: ${outcomes.join(" | ")}` : ""}</p>`;
}

function fixesTable(r: CellResult): Html | undefined {
  const notRun = r.fixesNotRun
    ? markup`<p><b>Fixes not run:</b> ${r.fixesNotRun.fixes.join(", ")} — ${r.fixesNotRun.reason}</p>`
    : "";
  if (!r.fixes.length) return r.fixesNotRun ? markup`<h3>Fixes</h3>${notRun}` : undefined;
  const event = r.fixes.find((f) => f.verdict.afterEvent)?.verdict.afterEvent?.event;
  if (event) return markup`${laterEventTable(r, event)}${notRun}`;
  const rows = r.fixes.map(
    (f) =>
      markup`<tr><td>${f.verdict.fix}</td><td class="fix ${f.verdict.overall}">${f.verdict.overall}${f.verdict.overall === "partial" ? ` (${countsLine(f.verdict)})` : ""}</td><td>${Object.entries(
        f.verdict.vantages,
      )
        .map(([v, x]) => `${v}: ${x}${countOf(f.verdict, v)}`)
        .join(
          ", ",
        )}</td><td>${[f.verdict.reason, f.attempt.fixNote ?? f.attempt.reason, chainNote(f.attempt)].filter(Boolean).join(" — ")}</td><td>${f.verdict.restoredRules?.length ?? "–"}</td></tr>`,
  );
  return markup`<h3>Fixes</h3><table><tr><th>fix</th><th>verdict</th><th>per vantage</th><th>note</th><th>skipped rules restored</th></tr>${rows}</table>${notRun}`;
}

/** The fixes of a scenario with a later event: each judged after the fix and again after the event. */
function laterEventTable(r: CellResult, event: string): Html {
  const perVantage = (verdict: Pick<CellResult["fixes"][number]["verdict"], "vantages">) =>
    Object.entries(verdict.vantages)
      .map(([v, x]) => `${v}: ${x}`)
      .join(", ");
  const rows = r.fixes.map((f) => {
    const after = f.verdict.afterEvent;
    const forward = f.attempt.afterEvent?.sysctls?.["net.ipv4.ip_forward"];
    return markup`<tr><td>${f.verdict.fix}</td><td class="fix ${f.verdict.overall}">${f.verdict.overall}</td><td>${perVantage(f.verdict)}</td><td class="fix ${after?.overall ?? ""}">${after?.overall ?? "–"}</td><td>${after ? perVantage(after) : ""}${forward === undefined ? "" : ` (ip_forward ${forward})`}</td><td>${[f.verdict.reason, f.attempt.fixNote ?? f.attempt.reason].filter(Boolean).join(" — ")}</td></tr>`;
  });
  return markup`<h3>Fixes, and after the ${event}</h3><table><tr><th>fix</th><th>verdict</th><th>per vantage</th><th>after the event</th><th>per vantage after it</th><th>note</th></tr>${rows}</table>`;
}

/** Every node of a multi-node cell: its address, subnets and forwarding, then the other nodes' routes, rule sets and logs. */
function nodesSection(b: NonNullable<CellResult["baseline"]>): Html | undefined {
  const nodes = b.nodes;
  if (!nodes?.length) return undefined;
  const rows = nodes.map(
    (n) =>
      markup`<tr><td>${n.name}</td><td>${n.address}</td><td>${n.subnets.join(", ")}</td><td>${Object.entries(n.sysctls)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}</td></tr>`,
  );
  const own = (n: (typeof nodes)[number]) =>
    markup`<h3>${n.name}: routes and addresses</h3>${pre(n.routes)}${
      n.rules
        ? markup`<h3>${n.name}: rules at probe time</h3>${pre(n.rules.final)}${
            n.rules.nftFinal ? markup`<h3>${n.name}: nft list ruleset at probe time</h3>${pre(n.rules.nftFinal)}` : ""
          }`
        : ""
    }${n.trace?.explanation ? markup`<p><b>${n.name} trace:</b> ${n.trace.explanation}</p>` : ""}${
      n.dockerdLog === undefined ? "" : markup`<h3>${n.name}: dockerd log (tail)</h3>${pre(n.dockerdLog)}`
    }`;
  return markup`<h3>Nodes (baseline; node-a is the one broken and fixed, its rules are below)</h3><table><tr><th>node</th><th>address</th><th>container subnets</th><th>at probe time</th></tr>${rows}</table>${nodes.map(own)}`;
}

function goldenSection(golden: GoldenDiff | undefined): Html | undefined {
  if (!golden) return undefined;
  const lines = [
    ...golden.missing.map((l) => markup`<span class="missing">- ${l}</span>`),
    ...golden.extra.map((l) => markup`<span class="extra">+ ${l}</span>`),
  ];
  return markup`<h3>Diff against golden ${golden.golden}</h3><pre>${lines.length ? joined(lines, NL) : "identical"}</pre>`;
}

/** The same cell on the other release of its engine series (28.0.1 beside 28.5.2), and where the two differ. */
function engineTwinLine(r: CellResult, all: readonly CellResult[]): Html | undefined {
  const pair = engineTwinComparisons(all).find((c) => c.older === r || c.newer === r);
  if (!pair) return undefined;
  const twin = pair.older === r ? pair.newer : pair.older;
  const verdict = pair.differences.length ? "differs" : "agrees on status, every vantage and every fix";
  const note = markup`<p><b>${twin.cell.engine} twin:</b> <a href="#${anchor(twin)}">${twin.status}</a> — ${verdict}</p>`;
  return pair.differences.length
    ? markup`${note}<pre class="twin-evidence">${pair.differences.map((d) => differenceLine(d, pair)).join("\n")}</pre>`
    : note;
}

/** The attributes the filters match a drill-down by. */
export const filterData = (r: CellResult): Html =>
  markup`data-engine="${r.cell.engine}" data-iptables="${r.cell.iptables}" data-backend="${r.cell.backend}" data-scenario="${scenarioOf(r)}" data-daemon="${r.cell.daemon}" data-status="${r.status}"`;

/** A cell's drill-down: why, security findings, its twin, evidence, probes, actions, fixes, rules and logs. */
export function cellDetail(r: CellResult, golden: GoldenDiff | undefined, all: readonly CellResult[]): Html {
  const b = r.baseline;
  const ev = b?.evidence;
  const probes = (b?.probes ?? []).map(
    (p) =>
      markup`<tr class="${p.pass ? "" : "reproduced"}"><td>${p.vantage}</td><td>${p.target}</td><td>${p.expect}</td><td>${p.outcome}</td><td>${p.ms} ms</td><td>${p.detail}</td></tr>`,
  );
  const actions = (b?.userActions ?? []).map(
    (a) =>
      markup`<tr class="${a.ok ? "" : "reproduced"}"><td>${a.when}</td><td>${a.action}</td><td>${a.ok ? "ok" : describeAction(a)}</td></tr>`,
  );
  const errors = (b?.errors ?? []).map((e) => `${e.step} [${e.signature}]: ${e.text}`).join("\n");
  const skipped = (b?.trace?.skippedRules ?? [])
    .map((s) => `${s.rule}${s.confirmedMissing ? "" : "  (present at probe time)"}`)
    .join("\n");
  const why = r.explanation || r.reason;
  return markup`<details class="cell-detail" id="${anchor(r)}" ${filterData(r)}>
<summary><span class="status ${r.status}">${r.status}</span> ${scenarioOf(r)} · ${r.cell.provider} · ${r.cell.engine} · iptables ${r.cell.iptables} (${r.cell.backend}) · ${r.cell.daemon} · ${r.cell.topology}</summary>
${why ? markup`<p><b>Why:</b> ${why}</p>` : ""}
${securityList(r)}
${twinLine(r, all)}${engineTwinLine(r, all)}
${repeatsLine(r)}${hostLine(r)}${kernelLine(r)}
${ev ? evidenceTable(ev, b?.timingsMs ?? {}) : ""}
${probes.length ? markup`<h3>Probes (baseline)</h3><table><tr><th>vantage</th><th>target</th><th>expect</th><th>outcome</th><th>time</th><th>detail</th></tr>${probes}</table>` : ""}
${b?.probeOrder ? markup`<p><b>Launch order:</b> ${b.probeOrder.vantages.join(" → ")} (seed ${b.probeOrder.seed}, repeat ${b.probeOrder.repeat}; every vantage probed at once, after each target's neighbour entry was pinned)</p>` : ""}
${actions.length ? markup`<h3>User actions (baseline)</h3><table><tr><th>when</th><th>action</th><th>result</th></tr>${actions}</table>` : ""}
${fixesTable(r)}
${
  b?.missingRules.length
    ? markup`<h3>Missing rules</h3><pre>${joined(
        b.missingRules.map((m) => markup`<span class="missing">${m}</span>`),
        NL,
      )}</pre>`
    : ""
}
${skipped ? markup`<h3>Rules skipped after a wrong -C answer</h3>${pre(skipped)}` : ""}
${errors ? markup`<h3>Captured errors</h3>${pre(errors)}` : ""}
${goldenSection(golden)}
${b ? markup`<h3>Rules before the break</h3>${pre(b.rules.beforeBreak)}<h3>Rules at probe time</h3>${pre(b.rules.final)}${nodesSection(b)}` : ""}
${b?.rules.nftFinal ? markup`<h3>nft list ruleset before the break</h3>${pre(b.rules.nftBeforeBreak)}<h3>nft list ruleset at probe time</h3>${pre(b.rules.nftFinal)}` : ""}
${b ? markup`<h3>dockerd log (tail)</h3>${pre(b.dockerdLog)}` : ""}
</details>`;
}
