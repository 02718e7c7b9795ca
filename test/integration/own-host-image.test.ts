import { readdir, readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { goldenKey, normaliseRules } from "../../src/report/goldens.js";
import type { CellResult } from "../../src/results/schema.js";
import { leftovers, runCli } from "../support/cli.js";
import { scratchDir } from "../support/scratch.js";
import { runMatrixForTest, type MatrixRun } from "../support/matrix-run.js";
import { expectEvery } from "../support/quantifiers.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";

// Own host images built from the Dockerfiles in test/fixtures/hosts/ (FROM debian:bookworm, served
// from fwcompat's debootstrapped bookworm base: no registry here), real traffic; and Debian 12's
// docker.io 20.10.24 as a catalogue engine against its goldens. The first run builds the images
// (apt installs of docker.io in two images); later runs find them cached.
let own: MatrixRun;
let stock2010: MatrixRun;

beforeAll(async () => {
  own = await runMatrixForTest("test/fixtures/matrices/own-hosts.yaml", { timeoutMs: WARM_RUN_MS });
  stock2010 = await runMatrixForTest("test/fixtures/matrices/docker20-10.yaml", { timeoutMs: WARM_RUN_MS });
}, 2 * WARM_RUN_TEST_MS);

const cellOf = (run: MatrixRun, scenario: string, engine: string) =>
  run.cell(`${scenario}__dind__${engine}__`) as CellResult;
const toolOf = (result: CellResult, tool: string) =>
  result.baseline?.evidence?.userland?.tools.find((t) => t.tool === tool);

describe("own host images built from Dockerfiles in the repository", () => {
  it("finishes with exit 0, a result per cell, and nothing of the run left on the engine", async () => {
    expect(own.exitCode, own.output.slice(-2000)).toBe(0);
    expect(own.cells.size).toBe(4);
    expect(await leftovers(own.runId)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it("runs each image's own userland and records it: Debian 12, docker.io 20.10.24, iptables 1.8.9 through alternatives", () => {
    for (const engine of ["debian12-stock", "debian12-no-bash"]) {
      const result = cellOf(own, "curl-timeout", engine);
      const evidence = result.baseline?.evidence;
      expect(evidence?.userland?.os).toBe("Debian GNU/Linux 12 (bookworm)");
      expect(evidence?.dockerdVersion).toMatch(/^Docker version 20\.10\.24\+dfsg1, build /);
      expect(evidence?.iptablesVersion).toBe("iptables v1.8.9 (nf_tables)");
      expect(evidence?.iptablesPackage).toMatch(/^iptables 1\.8\.9-2 \(the host image's own, /);
      expect(toolOf(result, "dockerd")).toMatchObject({
        path: "/usr/sbin/dockerd",
        package: expect.stringMatching(/^docker\.io 20\.10\.24\+dfsg1/),
      });
      expect(toolOf(result, "xtables-nft-multi")?.package).toMatch(/^iptables 1\.8\.9-2$/);
      expect(evidence?.userland?.alternatives).toContainEqual({ name: "iptables", target: "/usr/sbin/iptables-nft" });
    }
  });

  it("the image without bash has none, and its /bin/sh is dash", () => {
    const result = cellOf(own, "curl-timeout", "debian12-no-bash");
    expect(toolOf(result, "bash")).toBeUndefined();
    expect(toolOf(result, "sh")?.resolved).toBe("/usr/bin/dash");
    expect(toolOf(cellOf(own, "curl-timeout", "debian12-stock"), "bash")?.path).toBe("/usr/bin/bash");
  });

  it("both userlands give the same outcome per scenario", () => {
    for (const scenario of ["flush-then-run+filter", "curl-timeout"])
      expect(cellOf(own, scenario, "debian12-no-bash").status).toBe(cellOf(own, scenario, "debian12-stock").status);
  });
});

describe("Debian 12's docker.io 20.10.24 as a catalogue engine", () => {
  it("finishes with exit 0; its healthy rules are the FORWARD-based generation's (26.1.5's goldens), none missing", async () => {
    expect(stock2010.exitCode, stock2010.output.slice(-2000)).toBe(0);
    expect(stock2010.cells.size).toBe(2);
    for (const result of stock2010.cells.values()) expect(goldenKey(result), result.cell.id).toMatch(/^pre-28\/nft\//);
    const works = cellOf(stock2010, "curl-timeout", "docker-20.10.24");
    expect(works.status).toBe("works");
    expect(works.baseline?.missingRules).toEqual([]);
    // the healthy layout's golden (kept once per layout: it was recorded from 26.1.5)
    const golden = await readFile("goldens/pre-28/nft/flush-then-run.rules", "utf8");
    expect(normaliseRules(works.baseline?.rules.final ?? "", works.baseline?.targets ?? []).join("\n")).toBe(
      golden.trimEnd(),
    );
    const flushed = cellOf(stock2010, "flush-then-run+filter", "docker-20.10.24");
    // after the flush, only filter rules are gone (the expected rules of this generation, named one by one)
    expect(flushed.baseline?.missingRules?.length).toBeGreaterThan(0);
    expectEvery(flushed.baseline?.missingRules, (rule) => rule.startsWith("filter "), "missing rules");
    const before = flushed.baseline?.rules.beforeBreak ?? "";
    expect(normaliseRules(before, flushed.baseline?.targets ?? []).join("\n")).toBe(golden.trimEnd());
  });

  it("flush-then-run on 20.10.24 as on Debian 12 stock: reproduced; restarting dockerd repairs it, recreating the chains does not", () => {
    for (const result of [
      cellOf(stock2010, "flush-then-run+filter", "docker-20.10.24"),
      cellOf(own, "flush-then-run+filter", "debian12-stock"),
    ]) {
      expect(result.status, result.cell.id).toBe("reproduced");
      const verdicts = Object.fromEntries(result.fixes.map((f) => [f.attempt.name, f.verdict?.overall]));
      expect(verdicts, result.cell.id).toMatchObject({
        "restart-dockerd": "repaired",
        "recreate-docker-chains": "still-broken",
      });
    }
  });

  it("curl-timeout works on 20.10.24 with 1.8.9: every probe as expected", () => {
    expectEvery(cellOf(stock2010, "curl-timeout", "docker-20.10.24").baseline?.probes, (p) => p.pass, "probes");
  });
});

describe("the prerequisite check", () => {
  it(
    "stops a run whose image lacks a tool before any cell, in one line naming it, exit 2",
    async () => {
      const out = await scratchDir("fwcompat-it-");
      const run = await runCli(["run", "--matrix", "test/fixtures/matrices/own-host-missing-tool.yaml", "--out", out], {
        timeoutMs: WARM_RUN_MS,
      });
      expect(run.exitCode).toBe(2);
      const missing = run.stderr.split("\n").filter((line) => line.includes("missing: "));
      expect(missing).toEqual([
        expect.stringMatching(
          /^fwcompat: engine debian12-no-curl \(fwcompat\/own-host:debian12-no-curl-[0-9a-f]{16}\): missing: curl \(the probes\)$/,
        ),
      ]);
      // nothing was started: no run was recorded
      expect(await readdir(out)).toEqual([]);
    },
    WARM_RUN_TEST_MS,
  );
});
