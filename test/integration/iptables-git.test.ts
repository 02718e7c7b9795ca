import { readdir, readFile } from "node:fs/promises";
import { execa } from "execa";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { applyFilters, expandMatrix, parseFilters } from "../../src/config/expand.js";
import { loadMatrixFile } from "../../src/config/load.js";
import type { IptablesBuild } from "../../src/config/schema.js";
import { GitMirror } from "../../src/harness/git/repository.js";
import { cellResultSchema, type CellResult } from "../../src/results/schema.js";
import { KNOWN_NAMES } from "../../src/run/registry.js";
import { runCli } from "../support/cli.js";
import { sharedSources } from "./sources.js";
import { scratchDir } from "../support/scratch.js";
import { warmedImages } from "../support/warmed.js";

// The default matrix's 1.8.10 runs on Docker 28.0.1 too, compiled by the warm-up's docker28-0-1.yaml entry
await warmedImages("test/fixtures/matrices/docker28-0-1.yaml");

// The default matrix's 1.8.10 is built from the upstream git history (the bundle in the local
// source directory, which the test points at ../shared/sources), and its cells run for real.
const env = { FWCOMPAT_SOURCE_DIR: sharedSources() };

async function run(args: string[]): Promise<{ exitCode: number | undefined; output: string; cells: CellResult[] }> {
  const out = await scratchDir("fwcompat-git-");
  const result = await runCli(["run", ...args, "--out", out], { timeoutMs: 30 * 60_000, env });
  const files = await readdir(join(out, "cells")).catch(() => [] as string[]);
  const cells = await Promise.all(
    files.map(async (f) => cellResultSchema.parse(JSON.parse(await readFile(join(out, "cells", f), "utf8")))),
  );
  return { exitCode: result.exitCode, output: `${result.stderr}\n${result.stdout}`.slice(-4000), cells };
}

let defaultBuild: IptablesBuild;
let defaultRun: Awaited<ReturnType<typeof run>>;
let expectedIds: string[];

beforeAll(async () => {
  const matrix = await loadMatrixFile("matrix.yaml", KNOWN_NAMES);
  defaultBuild = matrix.iptables.find((b) => b.name === "1.8.10") as IptablesBuild;
  expectedIds = applyFilters(expandMatrix(matrix), parseFilters(["iptables=1.8.10"])).map((c) => c.id);
  defaultRun = await run(["--filter", "iptables=1.8.10", "--baseline-only"]);
}, 35 * 60_000);

describe("the default matrix's 1.8.10", () => {
  it("is the upstream v1.8.10 commit from git, with the release tarball and upstream git (same commit) as alternatives", () => {
    expect(defaultBuild.source).toMatchObject({ kind: "git", ref: "v1.8.10" });
    const commit = (defaultBuild.source as { commit?: string }).commit;
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(defaultBuild.alternatives).toEqual([
      expect.objectContaining({ kind: "tarball", file: "iptables-1.8.10.tar.xz" }),
      expect.objectContaining({ kind: "git", ref: "v1.8.10", commit }),
    ]);
  });

  it("its cells run for real: built from the pinned commit, printing v1.8.10, answering the -C probe correctly", () => {
    expect(defaultRun.exitCode, defaultRun.output).toBe(0);
    expect(defaultRun.cells.map((c) => c.cell.id).sort()).toEqual([...expectedIds].sort());
    const pinned = defaultBuild.source.kind === "git" ? defaultBuild.source.commit : "(not git)";
    for (const cell of defaultRun.cells) {
      expect(["works", "reproduced"], `${cell.cell.id}: ${cell.status} ${cell.reason ?? ""}`).toContain(cell.status);
      const evidence = cell.baseline?.evidence;
      expect(evidence?.iptablesVersion).toBe("iptables v1.8.10 (nf_tables)");
      expect(evidence?.iptablesCommit).toMatchObject({ commit: pinned, describe: "v1.8.10" });
      expect(evidence?.iptablesPackage).toMatch(
        new RegExp(`^upstream git v1\\.8\\.10 \\(commit ${pinned.slice(0, 12)}, \\d{4}-\\d\\d-\\d\\d\\): `),
      );
      expect(evidence?.checkProbe).toBe("correct");
    }
  });
});

describe("iptables-downgrade with that 1.8.10 present", () => {
  it(
    "switches the field report's cell to the real 1.8.10, no fallback, and traffic is judged per vantage",
    async () => {
      const fixture = await loadMatrixFile("test/fixtures/matrices/downgrade.yaml", KNOWN_NAMES);
      // the fixture carries the default matrix's own 1.8.10 entry, so this checks what users run
      expect(fixture.iptables.find((b) => b.name === "1.8.10")).toEqual(defaultBuild);
      const downgrade = await run(["--matrix", "test/fixtures/matrices/downgrade.yaml"]);
      expect(downgrade.exitCode, downgrade.output).toBe(0);
      const [cell] = downgrade.cells;
      expect(cell?.status).toBe("reproduced");
      const fix = cell?.fixes.find((f) => f.verdict.fix === "iptables-downgrade");
      expect(fix?.attempt.fixNote).toBe("iptables 1.8.11 (nft) -> 1.8.10 (nft), then dockerd restarted");
      expect(
        fix?.attempt.steps.some(
          (s) => s.name === "select iptables 1.8.10 nft" && s.stdout.includes("iptables v1.8.10 (nf_tables)"),
        ),
      ).toBe(true);
      for (const vantage of cell?.brokenVantages ?? []) expect(fix?.verdict.vantages[vantage]).toBe("repaired");
      expect(fix?.verdict.overall).toBe("repaired");
    },
    30 * 60_000,
  );
});

describe("builds from git that must not run", () => {
  it(
    "say why: no source (both routes named), a ref pinned to another commit, a release name between tags",
    async () => {
      const mirror = await GitMirror.open(join(env.FWCOMPAT_SOURCE_DIR, "iptables-upstream.bundle"));
      const commitOf = async (ref: string) =>
        (await execa("git", ["-C", mirror.gitDir, "rev-parse", `${ref}^{commit}`])).stdout.trim();
      const tarballs = await scratchDir("fwcompat-no-tarballs-");
      const out = await scratchDir("fwcompat-git-bad-");
      const result = await runCli(["run", "--matrix", "test/fixtures/matrices/git-sources.yaml", "--out", out], {
        timeoutMs: 20 * 60_000,
        env: { ...env, FWCOMPAT_TARBALL_DIR: tarballs },
      });
      // cells in error make the run's exit status 1; nothing was started for them
      expect(result.exitCode, result.stderr.slice(-2000)).toBe(1);
      const byBuild = new Map<string, CellResult>();
      for (const file of await readdir(join(out, "cells"))) {
        const cell = cellResultSchema.parse(JSON.parse(await readFile(join(out, "cells", file), "utf8")));
        byBuild.set(cell.cell.iptables, cell);
      }
      expect(byBuild.get("1.8.10")).toMatchObject({ status: "unavailable" });
      expect(byBuild.get("1.8.10")?.reason).toMatch(
        /repository no-such\.bundle is not in the local source directory .*; then iptables-1\.8\.10\.tar\.xz unobtainable: not in /,
      );
      expect(byBuild.get("1.8.11")).toMatchObject({ status: "error" });
      expect(byBuild.get("1.8.11")?.reason).toContain(
        `v1.8.11 resolves to ${await commitOf("v1.8.11")}, not the pinned ${await commitOf("v1.8.10")}`,
      );
      expect(byBuild.get("1.8.11-main")).toMatchObject({ status: "error" });
      expect(byBuild.get("1.8.11-main")?.reason).toMatch(
        new RegExp(
          `between tags: name the build by its commit \\(e\\.g\\. "git-${(await commitOf("main")).slice(0, 12)}"\\)`,
        ),
      );
      for (const cell of byBuild.values()) expect(cell.baseline).toBeUndefined();
    },
    25 * 60_000,
  );
});
