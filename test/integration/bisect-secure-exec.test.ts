import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { GitMirror } from "../../src/harness/git/repository.js";
import { bisectFileSchema, type BisectFile } from "../../src/results/bisect.js";
import { cellResultSchema, type CellResult } from "../../src/results/schema.js";
import { nextIndex, record, startSearch, type Judged } from "../../src/run/bisect/search.js";
import { labelledContainers, runCli } from "../support/cli.js";
import { scratchDir } from "../support/scratch.js";
import { sharedSources } from "./sources.js";

// Both ends of iptables 1.8.12's refusal to run in a secure exec, found by traffic alone under the
// labelled set-group-id stand-in, on Docker 28.5.2 with userland-proxy off. No commit id is written
// here: the expected ones are the commits of each range that add or remove AT_SECURE in libxtables.
const ROOT = new URL("../../", import.meta.url).pathname;
const env = { FWCOMPAT_SOURCE_DIR: sharedSources() };
const JUDGE = [
  "--by",
  "traffic",
  "--scenario",
  "secure-exec:setgid-stand-in",
  "--engine",
  "docker-28.5.2",
  "--daemon",
  "proxy-off",
];

interface BisectRun {
  exitCode: number | undefined;
  stdout: string;
  output: string;
  file: BisectFile | undefined;
  cells: Map<string, CellResult>;
}

async function bisect(args: string[], timeoutMs: number): Promise<BisectRun> {
  const dir = await scratchDir("fwcompat-bisect-secure-");
  const run = await runCli(["bisect", ...args, ...JUDGE, "--out", dir], { timeoutMs, env });
  const path = join(dir, "bisect.json");
  const file = existsSync(path) ? bisectFileSchema.parse(JSON.parse(await readFile(path, "utf8"))) : undefined;
  const cells = new Map<string, CellResult>();
  for (const name of await readdir(join(dir, "cells")).catch(() => [])) {
    const cell = cellResultSchema.parse(JSON.parse(await readFile(join(dir, "cells", name), "utf8")));
    cells.set(cell.cell.id, cell);
  }
  return {
    exitCode: run.exitCode,
    stdout: run.stdout,
    output: `${run.stderr}\n${run.stdout}`.slice(-4000),
    file,
    cells,
  };
}

let mirror: GitMirror;
const git = async (...args: string[]) => (await execa("git", ["-C", mirror.gitDir, ...args])).stdout.trim();
/** The commits of a range (first-parent line, oldest first) that add or remove AT_SECURE in libxtables/xtables.c. */
const touchingAtSecure = async (range: string) =>
  (
    await git(
      "log",
      "--first-parent",
      "--reverse",
      "--format=%H",
      "-G",
      "AT_SECURE",
      range,
      "--",
      "libxtables/xtables.c",
    )
  )
    .split("\n")
    .filter(Boolean);

/**
 * The judgements a bisect over `chain` (older endpoint excluded) must make when the verdict flips at
 * `flip` and the commits that did not build are skipped: the product's own search, replayed.
 */
function expectedSteps(chain: readonly string[], flip: string, skipped: ReadonlySet<string>): number {
  const flipAt = chain.indexOf(flip) + 1;
  let search = startSearch(chain.length);
  let steps = 0;
  for (let index = nextIndex(search); index !== undefined; index = nextIndex(search)) {
    const commit = chain[index - 1] as string;
    const judged: Judged = skipped.has(commit) ? "skip" : index >= flipAt ? "new" : "old";
    search = record(search, index, judged);
    steps++;
  }
  return steps;
}

const costs: Record<string, unknown> = {};
const cost = (file: BisectFile | undefined) => ({
  commits: file?.commits,
  judged: file?.steps.length,
  builds: file?.builds,
  wallMs: file?.wallMs,
  buildMs: file?.steps.reduce((sum, s) => sum + s.build.ms, 0),
  judgeMs: file?.steps.reduce((sum, s) => sum + s.judgeMs, 0),
});

let regression: BisectRun;
let fixing: BisectRun;

beforeAll(async () => {
  mirror = await GitMirror.open(join(env.FWCOMPAT_SOURCE_DIR, "iptables-upstream.bundle"));
  regression = await bisect(["--good", "main", "--bad", "v1.8.12"], 60 * 60_000);
  fixing = await bisect(["--bad", "v1.8.12", "--good", "v1.8.13"], 30 * 60_000);
  costs.regression = cost(regression.file);
  costs.fix = cost(fixing.file);
  const out = join(ROOT, "test-results");
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "bisect-secure-exec-cost.json"), `${JSON.stringify(costs, null, 2)}\n`);
  console.log(`bisect cost (secure-exec:setgid-stand-in, docker-28.5.2, proxy-off): ${JSON.stringify(costs)}`);
}, 95 * 60_000);

for (const [label, range, direction, kind] of [
  ["the first bad commit after the -C fix (main) up to v1.8.12", "main..v1.8.12", "regression", "first-bad"],
  ["the fixing commit after v1.8.12 up to v1.8.13", "v1.8.12..v1.8.13", "fix", "fixing"],
] as const) {
  describe(`fwcompat bisect --by traffic finds ${label}`, () => {
    const runOf = () => (direction === "regression" ? regression : fixing);

    it("exits 0 and names the one commit of the range that touches AT_SECURE in libxtables", async () => {
      const run = runOf();
      expect(run.exitCode, run.output).toBe(0);
      const expected = await touchingAtSecure(range);
      expect(expected).toHaveLength(1);
      expect(run.file?.direction).toBe(direction);
      expect(run.file?.state).toBe("found");
      expect(run.file?.result).toMatchObject({ kind, commit: expected[0] });
      expect(run.stdout).toContain(
        `${direction === "regression" ? "first bad commit" : "fixing commit"}: ${expected[0]}`,
      );
    });

    it("judges both endpoints and exactly the steps the search needs for that commit", async () => {
      const run = runOf();
      const chain = (await git("rev-list", "--first-parent", "--reverse", range)).split("\n");
      expect(run.file?.commits).toBe(chain.length);
      const steps = run.file?.steps ?? [];
      const skipped = new Set(steps.filter((s) => s.verdict === "skip").map((s) => s.commit));
      const [flip] = await touchingAtSecure(range);
      const searched = steps.filter((s) => s.role === "step");
      expect(searched.length).toBe(expectedSteps(chain, flip ?? "", skipped));
      expect(searched.length).toBeLessThanOrEqual(Math.ceil(Math.log2(chain.length)) + skipped.size);
      expect(steps.slice(0, 2).map((s) => s.role)).toEqual(
        direction === "regression" ? ["good", "bad"] : ["bad", "good"],
      );
    });

    it("every judged commit is a real cell under the condition: bad = dockerd refused with exit 111, good = works", async () => {
      const run = runOf();
      const [flip] = await touchingAtSecure(range);
      for (const step of run.file?.steps.filter((s) => s.verdict !== "skip") ?? []) {
        const cell = run.cells.get(step.cell ?? "");
        expect(cell, `no cell for ${step.commit}`).toBeDefined();
        expect(cell?.baseline?.evidence?.iptablesCommit?.commit).toBe(step.commit);
        // a commit refuses when it holds the refusal: from the first bad on, and before the fixing commit
        const fromFlipOn = step.commit === flip || (await mirror.isAncestor(flip ?? "", step.commit));
        const holdsRefusal = direction === "regression" ? fromFlipOn : !fromFlipOn;
        expect(step.verdict, step.commit).toBe(holdsRefusal ? "bad" : "good");
        expect(cell?.status).toBe(holdsRefusal ? "reproduced" : "works");
        const restart = cell?.baseline?.userActions.find(
          (a) => a.when === "under the condition" && a.action === "restart dockerd",
        );
        expect(restart?.ok).toBe(!holdsRefusal);
        if (holdsRefusal) {
          expect(restart?.error).toMatch(/failed to start daemon.*exit status 111/);
          expect(cell?.baseline?.trace?.silentRefusals).toBeGreaterThan(0);
        } else expect(cell?.baseline?.trace?.silentRefusals).toBe(0);
      }
    });
  });
}

describe("the cost of the two bisects", () => {
  it("is recorded, and the second reuses the build of v1.8.12 the first made", async () => {
    expect(regression.file?.wallMs).toBeGreaterThan(0);
    expect(fixing.file?.wallMs).toBeGreaterThan(0);
    const v1812 = await git("rev-parse", "v1.8.12^{commit}");
    expect(fixing.file?.steps.find((s) => s.commit === v1812)?.build.status).toBe("cached");
    expect(await labelledContainers(fixing.file?.runId)).toBe(0);
    expect(existsSync(join(ROOT, "test-results", "bisect-secure-exec-cost.json"))).toBe(true);
  });
});
