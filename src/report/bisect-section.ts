import { rangeLabel, type BisectFile, type BisectStep } from "../results/bisect.js";
import { escapeCell } from "../results/markdown.js";
import { markup, type Html } from "./template.js";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const short = (commit: string) => commit.slice(0, 12);
const verdictClass = (step: BisectStep) =>
  step.verdict === "good" ? "works" : step.verdict === "bad" ? "reproduced" : "unavailable";

/** How the commits were judged, in words. */
export function judgedBy(file: BisectFile): string {
  if (file.by === "probe") return `the -C self-probe of each commit's build (${file.judge.backend})`;
  const { scenario, engine, daemon, topology, backend } = file.judge;
  return `traffic: the ${scenario} cell on ${engine} with ${daemon}, ${topology}, ${backend} (baseline)`;
}

/** The one-line answer of a bisect. */
export function bisectHeadline(file: BisectFile): string {
  if (file.result)
    return `${file.result.kind === "first-bad" ? "first bad commit" : "fixing commit"}: ${file.result.commit} (${file.result.describe}, ${file.result.date.slice(0, 10)})`;
  if (file.state === "ambiguous")
    return `the verdict flips at one of ${(file.candidates ?? []).map((c) => short(c.commit)).join(", ")} (the others did not build)`;
  return `${file.state}${file.reason ? `: ${file.reason}` : ""}`;
}

const stepLabel = (step: BisectStep) =>
  step.role === "step" ? `step ${step.k} of ~${step.of}` : `${step.role} endpoint`;

/** A report section per bisect: the answer, the range and judge, and every judged commit with its build and timing. */
export function bisectHtml(file: BisectFile, cellIds: ReadonlySet<string>): Html {
  const found = file.result;
  const result = found
    ? markup`<table class="kv"><tr><td>commit</td><td><code>${found.commit}</code> (${found.describe})</td></tr>
<tr><td>subject</td><td>${found.subject}</td></tr><tr><td>date / author</td><td>${found.date} · ${found.author}</td></tr>
<tr><td>its parent</td><td><code>${short(found.parent.commit)}</code> (${found.parent.describe}): ${found.parent.observed}</td></tr></table>`
    : "";
  const rows = file.steps.map((step) => {
    const cell = step.cell && cellIds.has(step.cell) ? markup` <a href="#cell-${step.cell}">cell</a>` : "";
    const build = markup`${step.build.status} ${seconds(step.build.ms)}${step.build.reason ? markup`<pre>${step.build.reason}</pre>` : ""}`;
    return markup`<tr><td>${stepLabel(step)}</td><td><code>${short(step.commit)}</code></td><td>${step.describe}</td><td>${step.subject}</td><td>${step.date.slice(0, 10)}</td><td>${build}</td><td>${step.build.versions[0] ?? ""}</td><td class="${verdictClass(step)}">${step.observed} → <b>${step.verdict}</b>${cell}</td><td>${seconds(step.judgeMs)}</td></tr>\n`;
  });
  return markup`<section class="bisect" id="bisect-${file.runId}">
<h2>Bisect ${rangeLabel(file)}: ${bisectHeadline(file)}</h2>
<div class="meta">${file.repository} · judged by ${judgedBy(file)} · ${file.commits} commit(s) after the older endpoint · ${file.steps.length} judged: ${file.builds.built} built, ${file.builds.cached} cached, ${file.builds.failed} did not build · ${seconds(file.wallMs)} · started ${file.startedAt}</div>
${result}
<h3>Judged commits</h3>
<table><tr><th>step</th><th>commit</th><th>describe</th><th>subject</th><th>date</th><th>build</th><th>--version</th><th>judged</th><th>time</th></tr>
${rows}</table>
</section>`;
}

/** The same in Markdown, for report.md. */
export function bisectMarkdown(file: BisectFile): string {
  const lines = file.steps.map(
    (s) =>
      `| ${stepLabel(s)} | \`${short(s.commit)}\` | ${escapeCell(s.describe)} | ${s.build.status} ${seconds(s.build.ms)} | ${escapeCell(s.observed)} → ${s.verdict} | ${seconds(s.judgeMs)} |`,
  );
  return [
    `## Bisect ${escapeCell(rangeLabel(file))}`,
    "",
    `${escapeCell(bisectHeadline(file))}${file.result ? ` — ${escapeCell(file.result.subject)}` : ""}. Judged by ${escapeCell(judgedBy(file))}; ${file.steps.length} commits judged in ${seconds(file.wallMs)}.`,
    "",
    "| step | commit | describe | build | judged | time |",
    "|---|---|---|---|---|---|",
    ...lines,
    "",
  ].join("\n");
}
