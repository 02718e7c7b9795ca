import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareResults } from "../../src/report/compare.js";
import { FIX_VERDICT_ORDER, fixCount } from "../../src/report/html-views.js";
import { writeReport } from "../../src/report/report.js";
import type { CellResult } from "../../src/results/schema.js";
import { launchChromium, openFile, screenshot } from "../support/browser.js";
import { fixResult, probe, resultOf } from "../support/fake-results.js";

// An operator's questions asked of the page in Chromium: every number shown is checked against the results given.
const ENGINES = ["docker-27.5.1", "docker-28.5.2"];
const BUILDS = ["1.8.11", "1.8.11-2"];

function results(): CellResult[] {
  const all: CellResult[] = [];
  for (const engine of ENGINES) {
    for (const iptables of BUILDS) {
      const buggy = iptables === "1.8.11";
      const names = { engine, iptables, backend: "nft", daemon: "proxy-off" };
      all.push(
        buggy
          ? resultOf(
              { ...names, scenario: "curl-timeout" },
              "reproduced",
              [probe("external", false), probe("localhost", true), probe("cross-network", true)],
              {
                fixes: [
                  fixResult("iptables-upgrade", "repaired", { external: "repaired" }),
                  fixResult("userland-proxy-on", engine === "docker-28.5.2" ? "partial" : "still-broken", {
                    external: "still-broken",
                  }),
                ],
              },
            )
          : resultOf(
              { ...names, scenario: "curl-timeout" },
              "works",
              [probe("external", true), probe("localhost", true), probe("cross-network", true)],
              {
                fixes: [fixResult("iptables-upgrade", "not-applicable")],
              },
            ),
      );
      const leaks = engine === "docker-27.5.1";
      all.push(
        resultOf(
          { ...names, scenario: "flush-then-run", variant: "filter" },
          "reproduced",
          [probe("external", false), probe("cross-network", !leaks)],
          {
            securityFindings: leaks
              ? ["cross-network fwc-net1/n1c1 :8081 reachable: Docker's isolation bypassed"]
              : undefined,
            fixes: [
              fixResult("restart-docker", leaks ? "regressed" : "repaired", {
                external: leaks ? "regressed" : "repaired",
              }),
            ],
          },
        ),
      );
      if (!buggy)
        all.push(
          resultOf({ ...names, scenario: "bridge-nf-off" }, engine === "docker-28.5.2" ? "works" : "reproduced", [
            probe("external", engine === "docker-28.5.2"),
          ]),
        );
    }
  }
  all.push(
    resultOf(
      { engine: "docker-28.5.2", iptables: "1.8.11", backend: "nft", daemon: "proxy-on", scenario: "curl-timeout" },
      "works",
      [probe("external", true)],
    ),
  );
  all.push(
    resultOf(
      { engine: "docker-26.1.4", iptables: "1.8.10", backend: "legacy", daemon: "proxy-off", scenario: "curl-timeout" },
      "unavailable",
      [],
      { baseline: undefined, reason: "iptables-1.8.10.tar.xz unobtainable" },
    ),
  );
  return all;
}

const given = results();
let browser: Browser;
let page: Page;
let consoleErrors: string[];

beforeAll(async () => {
  const runDir = await mkdtemp(join(tmpdir(), "fwcompat-views-run-"));
  await mkdir(join(runDir, "cells"));
  for (const r of given) await writeFile(join(runDir, "cells", `${r.cell.id}.json`), JSON.stringify(r));
  const out = await mkdtemp(join(tmpdir(), "fwcompat-views-"));
  const written = await writeReport([runDir], { out, updateGoldens: false });
  expect(written.unread).toEqual([]);
  browser = await launchChromium();
  ({ page, consoleErrors } = await openFile(browser, join(out, "index.html")));
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const visibleChips = () => page.locator("table.matrix [data-cell]:visible").count();
const filter = async (name: string, value: string) => {
  await page.selectOption(`.filters select[name="${name}"]`, value);
};

describe("the report's views, as an operator uses them", () => {
  it("matrix: one row per combination holding only the cells it ran; the filters narrow it and the count says how many", async () => {
    expect(given.length).toBe(12);
    const combinations = new Set(
      given.map((r) => [r.cell.engine, r.cell.iptables, r.cell.backend, r.cell.daemon].join(" ")),
    );
    expect(await page.locator("table.matrix tr[data-row]").count()).toBe(combinations.size);
    expect(await visibleChips()).toBe(given.length);
    expect(await page.locator("#shown-count").innerText()).toBe(String(given.length));
    expect(await page.locator("table.matrix td.cells:empty").count()).toBe(0);
    const count = (status: string) => given.filter((r) => r.status === status).length;
    expect(await page.locator(".meta").first().innerText()).toContain(
      `${given.length} cells: ${count("reproduced")} reproduced, ${count("unavailable")} unavailable, ${count("works")} works`,
    );
    await screenshot(page, "report-matrix.png");

    await filter("engine", "docker-28.5.2");
    const onEngine = given.filter((r) => r.cell.engine === "docker-28.5.2");
    expect(await visibleChips()).toBe(onEngine.length);
    expect(await page.locator("#shown-count").innerText()).toBe(String(onEngine.length));
    await filter("status", "reproduced");
    const reproduced = onEngine.filter((r) => r.status === "reproduced");
    expect(reproduced.length).toBeGreaterThan(0);
    expect(await visibleChips()).toBe(reproduced.length);
    expect(await page.locator("details.cell-detail:visible").count()).toBe(reproduced.length);
    await screenshot(page, "report-matrix-filtered.png");
    await filter("engine", "");
    await filter("status", "");
    expect(await visibleChips()).toBe(given.length);
  });

  it("security findings come first and link to their cells", async () => {
    const flagged = given.filter((r) => r.securityFindings?.length);
    expect(flagged.length).toBe(2);
    const section = page.locator("#security");
    expect(await section.locator("h2").innerText()).toBe(`Security findings: ${flagged.length} cell(s)`);
    const firstSection = await page.locator("section").first().getAttribute("id");
    expect(firstSection).toBe("security");
    const links = await section
      .locator(":scope > ul > li > a")
      .evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    expect(links.sort()).toEqual(flagged.map((r) => `#cell-${r.cell.id}`).sort());
  });

  it("fix view: each fix's verdicts across cells with their counts, opening to the cells, one click to a drill-down", async () => {
    const expected = new Map<string, string[]>();
    for (const r of given)
      for (const f of r.fixes)
        expected.set(`${r.cell.scenario}${r.cell.variant ? `:${r.cell.variant}` : ""} ${f.verdict.fix}`, []);
    for (const key of expected.keys()) {
      const [scenario, fix] = key.split(" ") as [string, string];
      const verdicts = given.flatMap((r) =>
        (r.cell.variant ? `${r.cell.scenario}:${r.cell.variant}` : r.cell.scenario) === scenario
          ? r.fixes.filter((f) => f.verdict.fix === fix).map((f) => f.verdict.overall)
          : [],
      );
      expected.set(
        key,
        FIX_VERDICT_ORDER.filter((v) => verdicts.includes(v)).map((v) =>
          fixCount(v, verdicts.filter((x) => x === v).length, verdicts.filter((x) => x !== "not-applicable").length),
        ),
      );
    }
    const rows = page.locator("#fix-view tbody tr");
    expect(await rows.count()).toBe(expected.size);
    const shown = new Map<string, string[]>();
    for (const row of await rows.all()) {
      const key = `${await row.getAttribute("data-scenario")} ${await row.getAttribute("data-fix")}`;
      shown.set(key, await row.locator("summary").allInnerTexts());
    }
    expect(Object.fromEntries(shown)).toEqual(Object.fromEntries(expected));
    expect(shown.get("curl-timeout iptables-upgrade")).toEqual(["repaired 2/2", "not-applicable 2"]);

    await page.locator("#fix-view").scrollIntoViewIfNeeded();
    const repaired = page.locator('#fix-view tr[data-fix="iptables-upgrade"] summary[data-verdict="repaired"]');
    await repaired.click();
    const cellLinks = page.locator('#fix-view tr[data-fix="iptables-upgrade"] details[open] a');
    expect(await cellLinks.count()).toBe(2);
    await page.evaluate(() => document.getElementById("fix-view")?.scrollIntoView());
    await screenshot(page, "report-fix-view.png");
    const target = await cellLinks.first().getAttribute("href");
    await cellLinks.first().click();
    expect(await page.locator(`details[id="${target?.slice(1)}"]`).getAttribute("open")).not.toBeNull();
  });

  it("upgrade view: the cells whose verdict differs between current and candidate, exactly as fwcompat compare finds them", async () => {
    const current = { engine: "docker-27.5.1", iptables: "1.8.11", backend: "nft", daemon: "proxy-off" };
    const candidate = { engine: "docker-28.5.2", iptables: "1.8.11-2", backend: "nft", daemon: "proxy-off" };
    for (const [side, chosen] of [
      ["current", current],
      ["candidate", candidate],
    ] as const) {
      for (const [dimension, value] of Object.entries(chosen))
        await page.selectOption(`#upgrade-view select[name="${side}-${dimension}"]`, value);
    }
    // the same case on both sides, keyed as the view keys it, so compare sees one id per case
    const side = (chosen: typeof current) =>
      given
        .filter(
          (r) =>
            r.cell.engine === chosen.engine &&
            r.cell.iptables === chosen.iptables &&
            r.cell.backend === chosen.backend &&
            r.cell.daemon === chosen.daemon,
        )
        .map((r) => ({
          ...r,
          cell: {
            ...r.cell,
            id: `${r.cell.variant ? `${r.cell.scenario}:${r.cell.variant}` : r.cell.scenario} · ${r.cell.topology} · ${r.cell.provider}`,
          },
        }));
    const lines = compareResults(side(current), side(candidate));
    expect(lines.length).toBeGreaterThan(0);
    const expected = new Map<string, string[]>();
    for (const line of lines) {
      const match = /^([~+-]) (.+?): (.*)$/.exec(line);
      if (!match) throw new Error(`unexpected compare line ${line}`);
      const [, kind, id, change] = match as unknown as [string, string, string, string];
      const words = change.split(" ");
      const said =
        kind === "+"
          ? "not run on the current"
          : kind === "-"
            ? "not run on the candidate"
            : (words.length === 3 ? `status ${change}` : change).replaceAll(" -> ", " → ");
      expected.set(id, [...(expected.get(id) ?? []), said]);
    }
    const rows = page.locator("#upgrade-view tbody tr[data-differs]");
    expect(await rows.count()).toBe(expected.size);
    const shown = new Map<string, string[]>();
    for (const row of await rows.all()) {
      const cells = await row.locator("td").allInnerTexts();
      shown.set(`${cells[0]} · ${cells[1]}`, (cells[4] ?? "").split("; "));
    }
    expect(Object.fromEntries(shown)).toEqual(Object.fromEntries(expected));
    const both = new Set(
      [...side(current)].map((r) => r.cell.id).filter((id) => side(candidate).some((r) => r.cell.id === id)),
    );
    const differ = [...expected.keys()].filter((id) => both.has(id)).length;
    expect(await page.locator("#upgrade-summary").innerText()).toMatch(
      new RegExp(`^${both.size} cell\\(s\\) ran on both: ${differ} differ, ${both.size - differ} the same`),
    );
    await page.evaluate(() => document.getElementById("upgrade-view")?.scrollIntoView());
    await screenshot(page, "report-upgrade-view.png");
    const row = rows.filter({ hasText: "bridge-nf-off" });
    await row.locator("button").click();
    const opened = page.locator("details.cell-detail:target");
    expect(await opened.getAttribute("id")).toBe(
      `cell-${given.find((r) => r.cell.scenario === "bridge-nf-off" && r.cell.engine === candidate.engine && r.cell.iptables === candidate.iptables)?.cell.id ?? "none"}`,
    );
    expect(await opened.getAttribute("open")).not.toBeNull();
  });

  it("ran without a script error or a refused resource", () => {
    expect(consoleErrors).toEqual([]);
  });
});
