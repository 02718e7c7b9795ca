import { existsSync } from "node:fs";
import { mkdtemp, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { finishRun } from "../../src/cli/recorded-runs.js";
import { mergedResultsSchema } from "../../src/report/merge.js";
import type { CellResult } from "../../src/results/schema.js";
import { probe, resultOf } from "../support/fake-results.js";

const names = { engine: "docker-28.5.2", backend: "nft", daemon: "proxy-off", scenario: "curl-timeout" };
const reproduced = resultOf({ ...names, iptables: "1.8.11" }, "reproduced", [probe("external", false)]);
const works = resultOf({ ...names, iptables: "1.8.11-2" }, "works", [probe("external", true)]);

async function recordedRun(results: CellResult[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fwcompat-run-report-"));
  await mkdir(join(dir, "cells"));
  for (const r of results) await writeFile(join(dir, "cells", `${r.cell.id}.json`), JSON.stringify(r));
  return dir;
}

describe("a finished run writes its report", () => {
  it("into its output directory, naming the page last; a resumed run's report reads the cells, not the older results.json", async () => {
    const dir = await recordedRun([reproduced]);
    const lines: string[] = [];
    const first = await finishRun({ results: [reproduced], summary: "1 cell", outDir: dir, wallMs: 1000 }, (l) =>
      lines.push(l),
    );
    expect(first).toEqual({ code: 0, page: join(dir, "index.html") });
    for (const file of ["index.html", "report.md", "junit.xml", "results.json"])
      expect(existsSync(join(dir, file)), file).toBe(true);
    expect(lines.at(-1)).toBe(`report: ${join(dir, "index.html")}`);

    await writeFile(join(dir, "cells", `${works.cell.id}.json`), JSON.stringify(works));
    await finishRun({ results: [works], summary: "1 cell", outDir: dir, wallMs: 1000 }, () => undefined);
    const merged = mergedResultsSchema.parse(JSON.parse(await readFile(join(dir, "results.json"), "utf8")));
    expect(merged.cells.map((c) => c.status).sort()).toEqual(["reproduced", "works"]);
    expect(await readFile(join(dir, "index.html"), "utf8")).toContain("2 cells: 1 reproduced, 1 works");
  });

  it("exits 1 when a cell ended in error, and 3 when a cell file could not be read for the report", async () => {
    const errored = { ...works, status: "error" as const };
    const dir = await recordedRun([errored]);
    expect((await finishRun({ results: [errored], summary: "", outDir: dir, wallMs: 1 }, () => undefined)).code).toBe(
      1,
    );
    const partial = await recordedRun([works]);
    await writeFile(join(partial, "cells", "cut.json"), "{");
    const lines: string[] = [];
    expect(
      (await finishRun({ results: [works], summary: "", outDir: partial, wallMs: 1 }, (l) => lines.push(l))).code,
    ).toBe(3);
    expect(lines).toContainEqual(expect.stringMatching(/left out of the report: .*cut\.json: not readable JSON/));
  });
});
