import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { launchChromium } from "../support/browser.js";
import { beforeAll, describe, expect, it } from "vitest";
import { mergedResultsSchema } from "../../src/report/merge.js";
import { labelledContainers, runCli } from "../support/cli.js";
import { scratchDir } from "../support/scratch.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";

// A real run (buggy and fixed iptables on a real engine) rendered, gated and looked at in a browser.
let results = "";
let report = "";
const ID_BUGGY = "curl-timeout__dind__docker-28.5.2__1.8.11-nft__proxy-off__3-bridges";

beforeAll(async () => {
  results = await scratchDir("fwcompat-report-run-");
  report = await scratchDir("fwcompat-report-");
  const run = await runCli(
    [
      "run",
      "--matrix",
      "test/fixtures/matrices/integration.yaml",
      "--filter",
      "scenario=curl-timeout",
      "--baseline-only",
      "--out",
      results,
    ],
    { timeoutMs: WARM_RUN_MS },
  );
  expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);
  const rendered = await runCli(["report", results, "--out", report], { timeoutMs: 60_000 });
  expect(rendered.exitCode, rendered.stderr).toBe(0);
}, WARM_RUN_TEST_MS);

describe("report from a real run", () => {
  it("writes schema-valid merged results, Markdown and JUnit", () => {
    const merged = mergedResultsSchema.parse(JSON.parse(readFileSync(join(report, "results.json"), "utf8")));
    expect(merged.cells.map((c) => `${c.cell.iptables}=${c.status}`).sort()).toEqual([
      "1.8.11-2=works",
      "1.8.11=reproduced",
    ]);
    expect(readFileSync(join(report, "report.md"), "utf8")).toMatch(
      /\| curl-timeout \| docker-28\.5\.2 \| 1\.8\.11 \(nft\) \| buggy \| proxy-off \| reproduced \|/,
    );
    const junit = readFileSync(join(report, "junit.xml"), "utf8");
    expect(junit).toMatch(
      /classname="docker-28\.5\.2\.1\.8\.11-nft\.proxy-off\.3-bridges" name="curl-timeout external"[^>]*>\s*<failure message="4\/4 probes not as expected/,
    );
  });

  it("diffs every cell against the committed golden: the healthy cell matches, the buggy one lacks exactly its skipped rules", () => {
    const html = readFileSync(join(report, "index.html"), "utf8");
    const section = (id: string) =>
      html.slice(html.indexOf(`id="cell-${id}"`), html.indexOf("</details>", html.indexOf(`id="cell-${id}"`)));
    const healthy = section("curl-timeout__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__3-bridges");
    expect(healthy).toMatch(/Diff against golden 28\+\/nft\/curl-timeout<\/h3><pre>identical<\/pre>/);
    const buggy = section(ID_BUGGY);
    expect(buggy).toContain('<span class="missing">- -A DOCKER-BRIDGE -o br-{fwc-net2} -j DOCKER</span>');
  });

  it("renders in headless Chromium: the matrix and a drill-down show real cell data", async () => {
    expect(existsSync("/usr/bin/chromium"), "Debian's chromium is installed by scripts/setup.sh").toBe(true);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`file://${join(report, "index.html")}`);
      const matrixText = await page.locator("table.matrix").innerText();
      expect(matrixText).toMatch(/REPRODUCED/);
      expect(matrixText).toMatch(/WORKS/);
      expect(matrixText).toMatch(/iptables 1\.8\.11 \(nft\)/);
      await page.screenshot({ path: join(report, "matrix.png") });
      await page.locator(`a[href="#cell-${ID_BUGGY}"]`).click();
      const detail = page.locator(`details[id="cell-${ID_BUGGY}"]`);
      expect(await detail.getAttribute("open")).not.toBeNull();
      const text = await detail.innerText();
      expect(text).toMatch(/-C self-probe\s+buggy/);
      expect(text).toMatch(/iptables v1\.8\.11 \(nf_tables\)/);
      expect(text).toMatch(/external\s+fwc-net2\/n2c1 :8082\s+reachable\s+timeout/);
      expect(text).toMatch(/Why: \d+ iptables -C check\(s\) answered "exists"/);
      const screenshot = join(report, "drill-down.png");
      await page.screenshot({ path: screenshot });
      expect(readFileSync(screenshot).length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe("gate", () => {
  it("passes on the expectations the results meet", async () => {
    const gate = await runCli(["gate", "--expect", "test/fixtures/expectations/pass.yaml", "--results", results], {
      timeoutMs: 60_000,
    });
    expect(gate.exitCode, gate.stdout + gate.stderr).toBe(0);
    expect(gate.stdout.trim()).toBe("gate passed: 2 expectation(s) held over 2 cell(s)");
  });

  it("fails on a crafted regression with one exact line naming the cell, the vantages and why", async () => {
    const gate = await runCli(
      ["gate", "--expect", "test/fixtures/expectations/regression.yaml", "--results", results],
      { timeoutMs: 60_000 },
    );
    expect(gate.exitCode).toBe(1);
    const lines = gate.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      new RegExp(
        `^REGRESSION upstream 1\\.8\\.11 must keep published ports working: ${ID_BUGGY}: expected works, got reproduced \\(external: timeout 4/4; localhost: timeout 3/4\\) — why: \\d+ iptables -C check`,
      ),
    );
    expect(lines.at(-1)).toBe("gate failed: 1 regression(s), 0 unchecked expectation(s) over 2 cell(s)");
  });

  it(
    "runs only the cells the expectations and the candidate need",
    async () => {
      const out = await scratchDir("fwcompat-gate-");
      const gate = await runCli(
        [
          "gate",
          "--expect",
          "test/fixtures/expectations/pass.yaml",
          "--candidate",
          "iptables=1.8.11-2",
          "--baseline-only",
          "--out",
          out,
        ],
        { timeoutMs: WARM_RUN_MS },
      );
      expect(gate.exitCode, gate.stdout + gate.stderr.slice(-1500)).toBe(0);
      expect(gate.stderr).toMatch(/gate: running 1 cell\(s\) the expectations need/);
      expect(readdirSync(join(out, "cells"))).toEqual([
        "curl-timeout__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__3-bridges.json",
      ]);
      expect(gate.stdout).toContain("OUTSIDE THE CANDIDATE upstream 1.8.11 loses published ports (accepted)");
      expect(gate.stdout.trim().split("\n").at(-1)).toBe("gate passed: 1 expectation(s) held over 1 cell(s)");
      const runId = JSON.parse(readFileSync(join(out, "run.json"), "utf8")).runId as string;
      expect(await labelledContainers(runId)).toBe(0);
    },
    WARM_RUN_TEST_MS,
  );
});

describe("plan, compare and workflows", () => {
  it("plan emits a GitHub Actions matrix with one shard per cell", async () => {
    const plan = await runCli(["plan", "--matrix", "test/fixtures/matrices/integration.yaml", "--format", "gha"], {
      timeoutMs: 30_000,
    });
    const parsed = JSON.parse(plan.stdout) as { include: Array<{ cell: string; name: string }> };
    expect(parsed.include.map((c) => c.cell).sort()).toEqual([
      "curl-timeout__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__3-bridges",
      ID_BUGGY,
      "flush-then-run+filter__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__3-bridges",
    ]);
  });

  it("compare of a result set with itself shows no differences", async () => {
    const compare = await runCli(["compare", results, report, "--fail-on-change"], { timeoutMs: 30_000 });
    expect(compare.exitCode).toBe(0);
    expect(compare.stdout.trim()).toBe("no differences");
  });

  it("every workflow passes the GitHub workflow schema", async () => {
    const dir = new URL("../../.github/workflows/", import.meta.url).pathname;
    for (const file of readdirSync(dir)) {
      const check = await execa("npx", ["--no-install", "action-validator", join(dir, file)], { reject: false });
      expect(check.exitCode, `${file}: ${check.stdout}${check.stderr}`).toBe(0);
    }
  });
});
