import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mergedResultsSchema } from "../../src/report/merge.js";
import { compareEngineTwins, engineRelease, engineTwinComparisons } from "../../src/report/engine-twins.js";
import { engineTwinsHtml, engineTwinsMarkdown } from "../../src/report/engine-twins-section.js";
import { renderHtml } from "../../src/report/html.js";
import { renderMarkdownReport } from "../../src/report/report.js";
import type { CellResult } from "../../src/results/schema.js";
import { expectEvery } from "../support/quantifiers.js";

// Real cells: the published run's Docker 28.5.2 curl-timeout results (Debian's package). Their
// 28.0.1 twins are the same results under the other engine's name and version, changed where a
// test says so, so each test controls what the two releases disagree on.
const published = mergedResultsSchema.parse(
  JSON.parse(readFileSync(new URL("../../docs/compatibility/results.json", import.meta.url), "utf8")),
).cells;
const real = (id: string): CellResult => {
  const found = published.find((c) => c.cell.id === id);
  if (!found) throw new Error(`the published results have no cell ${id}`);
  return structuredClone(found);
};
const BUGGY = "curl-timeout__dind__docker-28.5.2__1.8.11-nft__proxy-off__3-bridges";
const FIXED = "curl-timeout__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__3-bridges";

/** The same result as if Docker 28.0.1 (built from source) had run it. */
function as2801(result: CellResult): CellResult {
  const twin = structuredClone(result);
  twin.cell.engine = "docker-28.0.1";
  twin.cell.id = result.cell.id.replace("docker-28.5.2", "docker-28.0.1");
  if (twin.baseline?.evidence) twin.baseline.evidence.dockerdVersion = "Docker version 28.0.1, build bbd0a17";
  return twin;
}

describe("engine twins: cells that differ only by an engine of the same series", () => {
  it("reads the release from what dockerd said (Debian's +dfsg suffix aside), else from the engine's name", () => {
    expect(engineRelease(real(BUGGY))).toBe("28.5.2");
    const unstarted = as2801(real(BUGGY));
    delete unstarted.baseline;
    expect(engineRelease(unstarted)).toBe("28.0.1");
  });

  it("pairs 28.0.1 with 28.5.2 cell by cell, older first, and never across series, lanes or iptables builds", () => {
    const newer = [real(BUGGY), real(FIXED)];
    const older = newer.map(as2801);
    const other = published.filter((c) => c.cell.engine === "docker-29.7.2" || c.cell.engine === "docker-26.1.5");
    expect(other.length).toBeGreaterThan(0);
    const pairs = engineTwinComparisons([...newer, ...other, ...older]);
    // in cell id order: 1.8.11-2-nft sorts before 1.8.11-nft
    expect(pairs.map((p) => [p.series, p.older.cell.id, p.newer.cell.id])).toEqual([
      ["28", older[1]?.cell.id, FIXED],
      ["28", older[0]?.cell.id, BUGGY],
    ]);
  });

  it("an agreeing pair: status, every vantage and every fix the same", () => {
    const newer = real(BUGGY);
    const comparison = compareEngineTwins(as2801(newer), newer, "28");
    expect(newer.fixes.length).toBeGreaterThan(0);
    expect(comparison.differences).toEqual([]);
    expect(comparison.agrees).toEqual({ status: true, vantage: true, fix: true });
  });

  it("a disagreeing pair names the vantage and the fix where the releases differ, with both sides", () => {
    const newer = real(BUGGY);
    const older = as2801(newer);
    // 28.0.1 serves localhost where 28.5.2 timed out, and one fix judges otherwise
    const localhost = older.baseline?.probes.filter((p) => p.vantage === "localhost") ?? [];
    expect(localhost.some((p) => !p.pass)).toBe(true);
    for (const p of localhost) Object.assign(p, { outcome: "ok", pass: true });
    const [first] = older.fixes;
    if (!first) throw new Error("the published cell has no fix");
    const newerVerdict = first.verdict.overall;
    first.verdict.overall = newerVerdict === "repaired" ? "still-broken" : "repaired";

    const comparison = compareEngineTwins(older, newer, "28");
    expect(comparison.agrees).toEqual({ status: true, vantage: false, fix: false });
    const timedOut = newer.baseline?.probes.filter((p) => p.vantage === "localhost" && !p.pass) ?? [];
    expectEvery(timedOut, (p) => p.outcome === "timeout");
    expect(comparison.differences).toEqual([
      {
        aspect: "vantage",
        name: "localhost",
        older: `ok ${localhost.length}/${localhost.length}`,
        newer: `timeout ${timedOut.length}/${localhost.length}`,
      },
      { aspect: "fix", name: first.verdict.fix, older: first.verdict.overall, newer: newerVerdict },
    ]);
  });

  it("a pair whose statuses differ says so first, and a fix only one side ran is 'not run' on the other", () => {
    const newer = real(FIXED);
    const older = as2801(real(BUGGY));
    older.cell.iptables = newer.cell.iptables;
    older.fixes = older.fixes.slice(1);
    const comparison = compareEngineTwins(older, newer, "28");
    expect(comparison.differences[0]).toEqual({ aspect: "status", name: "", older: "reproduced", newer: "works" });
    expect(comparison.differences).toContainEqual(
      expect.objectContaining({ aspect: "fix", name: newer.fixes[0]?.verdict.fix, older: "not run" }),
    );
  });
});

describe("the report's engine-twin section", () => {
  const newer = real(BUGGY);
  const agreeing = as2801(real(FIXED));
  const disagreeing = as2801(newer);
  for (const p of disagreeing.baseline?.probes ?? [])
    if (p.vantage === "external") Object.assign(p, { outcome: "ok", pass: true });
  const results = [newer, real(FIXED), agreeing, disagreeing];
  const external = newer.baseline?.probes.filter((p) => p.vantage === "external") ?? [];
  const differs = `external: ok ${external.length}/${external.length} (docker-28.0.1) vs timeout ${external.filter((p) => !p.pass).length}/${external.length} (docker-28.5.2)`;

  it("in report.md: one row per pair, the disagreement spelled out", () => {
    const md = engineTwinsMarkdown(results);
    expect(md).toMatch(
      /^## Engines of one series side by side\n\n2 cell pair\(s\) differ only by engine, both engines of one release series \(28\.x\): 1 agree on status, every vantage and every fix; 1 disagree\./,
    );
    const rows = md.split("\n").filter((l) => l.startsWith("| curl-timeout"));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^\| curl-timeout · iptables 1\.8\.11-2 .*\| agree \(works\) \| agree \| agree \| – \|$/);
    expect(rows[1]).toMatch(
      /^\| curl-timeout · iptables 1\.8\.11 \(nft\) .*\| agree \(reproduced\) \| differ \| agree \| /,
    );
    expect(rows[1]).toContain(differs);
    expect(renderMarkdownReport(results, "now")).toContain(md);
  });

  it("in index.html: the same pairs, each engine's cell linked", () => {
    const html = engineTwinsHtml(results)?.toString() ?? "";
    expect(html.match(/<tr data-engine-twin=/g)).toHaveLength(2);
    expect(html).toContain(
      `<a href="#cell-${disagreeing.cell.id}">docker-28.0.1</a> / <a href="#cell-${BUGGY}">docker-28.5.2</a>`,
    );
    expect(html).toContain(`<li>${differs}</li>`);
    const page = renderHtml(results, new Map(), "now");
    expect(page).toContain('<section id="engine-twins">');
    // each cell's drill-down names its twin on the other release, and what differs
    const detail = page.slice(page.indexOf(`id="cell-${disagreeing.cell.id}"`));
    expect(detail.slice(0, detail.indexOf("</details>"))).toContain(
      `<p><b>docker-28.5.2 twin:</b> <a href="#cell-${BUGGY}">reproduced</a> — differs</p><pre class="twin-evidence">${differs}</pre>`,
    );
  });

  it("is absent from both when no two engines of one series ran the same cell", () => {
    expect(engineTwinsMarkdown([newer, real(FIXED)])).toBe("");
    expect(engineTwinsHtml([newer])).toBeUndefined();
    expect(renderHtml([newer, real(FIXED)], new Map(), "now")).not.toContain("engine-twins");
  });
});
