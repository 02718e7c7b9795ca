import { statSync } from "node:fs";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PRE_LIMIT } from "../../src/report/html-detail.js";
import type { CellResult } from "../../src/results/schema.js";
import { launchChromium, openFile, screenshot } from "../support/browser.js";
import { runCli } from "../support/cli.js";
import { attempt, fixResult, probe, resultOf } from "../support/fake-results.js";

// Evidence comes from hosts and files users control: rendered, it must stay text, and one bad file must not take the page down.
const PWN = "window.__pwned=1";
const SCRIPT_TAG = `<script>${PWN}</script>`;
const IMG = `"><img src=x onerror="${PWN}">`;
const JS_LINK = `javascript:${PWN}`;
const CONTROL = "\u0000\u0007\u001b[31mred\u001b[0m\u0008\u007f\u2028\u2029\ud800";
const MEGABYTE_LINE = `${"A".repeat(1024 * 1024)}${SCRIPT_TAG}`;
const hostile = [
  SCRIPT_TAG,
  IMG,
  `<a href="${JS_LINK}">click</a>`,
  CONTROL,
  `'><svg onload=${PWN}>`,
  "</pre></details></body><script>window.__pwned=2</script>",
].join(" ");

const hostileCell: CellResult = resultOf(
  {
    engine: "docker-28.5.2",
    iptables: "1.8.11",
    backend: "nft",
    daemon: `proxy-off${IMG}`,
    scenario: `curl-timeout${SCRIPT_TAG}`,
  },
  "reproduced",
  [probe("external", false, hostile), probe("localhost", true, IMG)],
  {
    explanation: hostile,
    securityFindings: [`cross-network reachable ${hostile}`],
    baseline: attempt("baseline", [probe("external", false, hostile)], {
      dockerdLog: `${MEGABYTE_LINE}\n${hostile}\n`,
      missingRules: [hostile],
      errors: [{ step: IMG, signature: JS_LINK, text: hostile }],
      userActions: [
        {
          action: `docker run -p 8080:80 ${SCRIPT_TAG}`,
          when: "after flush",
          ok: false,
          exitCode: 125,
          error: hostile,
        },
      ],
      rules: { final: MEGABYTE_LINE },
    }),
    fixes: [fixResult(JS_LINK, "repaired", { external: "repaired" }), fixResult(`restart${IMG}`, "still-broken")],
  },
);
const healthy = resultOf(
  { engine: "docker-28.5.2", iptables: "1.8.11-2", backend: "nft", daemon: "proxy-off", scenario: "curl-timeout" },
  "works",
  [probe("external", true)],
);
const alsoBroken = resultOf(
  { engine: "docker-27.5.1", iptables: "1.8.11", backend: "nft", daemon: "proxy-off", scenario: "curl-timeout" },
  "reproduced",
  [probe("external", false)],
);
// its rules are not iptables-save output: the golden diff cannot judge them
const unjudgeable = resultOf(
  { engine: "docker-27.5.1", iptables: "1.8.11-2", backend: "nft", daemon: "proxy-off", scenario: "curl-timeout" },
  "works",
  [probe("external", true)],
  {
    baseline: attempt("baseline", [probe("external", true)], {
      rules: { final: `this is not iptables-save output ${SCRIPT_TAG}` },
      evidence: {
        hostMode: "dind",
        kernel: "6.12",
        iptablesVersion: "iptables v1.8.11 (nf_tables)",
        iptablesPackage: "upstream",
        backend: "nft",
        dockerdVersion: "Docker version 28.5.2, build 9f9e405",
        checkProbe: "correct",
        ipForward: { atStart: 1, afterDockerd: 1 },
        cgroup: "2",
      },
    }),
  },
);

let out = "";
let report: Awaited<ReturnType<typeof runCli>>;
let browser: Browser;
let page: Page;
let consoleErrors: string[];
let dialogs: string[];

beforeAll(async () => {
  const run = await mkdtemp(join(tmpdir(), "fwcompat-hostile-run-"));
  const cells = join(run, "cells");
  await mkdir(cells);
  // hostile names hold slashes: the files are named by position
  for (const [i, r] of [hostileCell, healthy, alsoBroken, unjudgeable].entries())
    await writeFile(join(cells, `cell-${i}.json`), JSON.stringify(r));
  // invalid UTF-8 inside a JSON string: read as U+FFFD, never as markup
  const bytes = Buffer.from(
    JSON.stringify({
      ...alsoBroken,
      cell: { ...alsoBroken.cell, id: "invalid-utf8", daemon: "proxy-on" },
      explanation: "BYTES",
    }),
  );
  const at = bytes.indexOf("BYTES");
  await writeFile(
    join(cells, "invalid-utf8.json"),
    Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe, 0x3c, 0xc3, 0x28]), bytes.subarray(at + 5)]),
  );
  await writeFile(join(cells, "truncated.json"), JSON.stringify(healthy).slice(0, 200));
  await writeFile(join(cells, "other-version.json"), JSON.stringify({ ...healthy, schemaVersion: 99 }));
  out = await mkdtemp(join(tmpdir(), "fwcompat-hostile-report-"));
  report = await runCli(["report", run, "--out", out], { timeoutMs: 60_000 });
  browser = await launchChromium();
  ({ page, consoleErrors, dialogs } = await openFile(browser, join(out, "index.html")));
}, 90_000);

afterAll(async () => {
  await browser?.close();
});

describe("a report of hostile and broken results", () => {
  it("names every result it left out on the terminal and exits 3, with the page written", () => {
    expect(report.exitCode, report.stderr).toBe(3);
    const leftOut = report.stderr.split("\n").filter((l) => l.includes("left out of the report: "));
    expect(leftOut).toHaveLength(3);
    expect(leftOut.find((l) => l.includes("truncated.json"))).toMatch(/truncated\.json: not readable JSON/);
    expect(leftOut.find((l) => l.includes("other-version.json"))).toMatch(
      /other-version\.json: not a fwcompat result of schema version/,
    );
    expect(leftOut.find((l) => l.includes(unjudgeable.cell.id))).toMatch(
      /its rules could not be judged against the golden/,
    );
    const lines = report.stderr.trim().split("\n");
    expect(lines).toContainEqual(
      expect.stringMatching(
        /report written without 3 result\(s\) it could not read or judge \(named above and at the top of the page\)$/,
      ),
    );
    expect(lines.at(-1)).toMatch(new RegExp(`report: ${out}/index\\.html$`));
  });

  it("names them on the page too, and renders every readable cell", async () => {
    const items = await page.locator("#not-rendered li").allInnerTexts();
    expect(items).toHaveLength(3);
    expect(items.join("\n")).toContain("truncated.json");
    expect(items.join("\n")).toContain("other-version.json");
    expect(items.join("\n")).toContain(unjudgeable.cell.id);
    expect(await page.locator("table.matrix [data-cell]").count()).toBe(5);
    expect(await page.locator("details.cell-detail").count()).toBe(5);
  });

  it("holds no injected element, handler, link or script: the page's one script ran, nothing else did", async () => {
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(await page.locator("img, svg, iframe, object, embed").count()).toBe(0);
    expect(await page.locator("script").count()).toBe(1);
    expect(await page.locator('a[href^="javascript:" i]').count()).toBe(0);
    const handlers = await page.evaluate(() =>
      [...document.querySelectorAll("*")].flatMap((el) =>
        [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName} ${a.name}`),
      ),
    );
    expect(handlers).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it("shows the hostile text as text, the megabyte line cut to its tail, control characters and bad bytes inert", async () => {
    // CSS strings quoted as JSON quotes them: the id holds quotes and angle brackets
    const detail = page.locator(`details[id=${JSON.stringify(`cell-${hostileCell.cell.id}`)}]`);
    await page.locator(`table.matrix [data-id=${JSON.stringify(hostileCell.cell.id)}]`).click();
    expect(await detail.getAttribute("open")).not.toBeNull();
    const text = await detail.innerText();
    expect(text).toContain(SCRIPT_TAG);
    expect(text).toContain(`<img src=x onerror="${PWN}">`);
    expect(text).toContain(`<a href="${JS_LINK}">click</a>`);
    expect(text).toContain("\u001b[31mred");
    const longest = await detail
      .locator("pre")
      .evaluateAll((pres) => Math.max(...pres.map((p) => p.textContent?.length ?? 0)));
    expect(longest).toBeLessThanOrEqual(PRE_LIMIT);
    expect(longest).toBeGreaterThan(PRE_LIMIT / 2);
    const bad = await page.locator('details[id="cell-invalid-utf8"]').textContent();
    expect(bad).toContain("Why: \ufffd\ufffd<\ufffd(");
    expect(statSync(join(out, "index.html")).size).toBeLessThan(512 * 1024);
    await screenshot(page, "report-hostile.png");
  });

  it("stays usable: the filters still narrow the matrix, including by a hostile value", async () => {
    await page.selectOption('.filters select[name="status"]', "works");
    expect(await page.locator("#shown-count").innerText()).toBe("2");
    expect(await page.locator("table.matrix [data-cell]:visible").count()).toBe(2);
    await page.selectOption('.filters select[name="status"]', "");
    await page.selectOption('.filters select[name="daemon"]', `proxy-off${IMG}`);
    expect(await page.locator("#shown-count").innerText()).toBe("1");
    expect(await page.locator("table.matrix [data-cell]:visible").getAttribute("data-id")).toBe(hostileCell.cell.id);
    expect(await page.locator("details.cell-detail:visible").count()).toBe(1);
  });
});
