import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { bisectFileSchema } from "../../src/results/bisect.js";
import { runBisect } from "../../src/run/bisect/bisect.js";
import type { Judge } from "../../src/run/bisect/judges.js";
import type { BisectPlan } from "../../src/run/bisect/plan.js";
import {
  gitNameProblem,
  gitVersionProblem,
  gitProvenance,
  parseProvenance,
  tagVersion,
} from "../../src/harness/images/git-recipe.js";
import { locateRepository, type CommitInfo } from "../../src/harness/git/repository.js";
import {
  nextIndex,
  outcome,
  record,
  startSearch,
  stepsLeft,
  type Judged,
  type Search,
} from "../../src/run/bisect/search.js";

/** Runs the search against an oracle: indices below `flip` keep the old verdict, the rest the new one. */
function bisect(last: number, flip: number, unbuildable: ReadonlySet<number> = new Set()) {
  let search: Search = startSearch(last);
  const judged: number[] = [];
  for (let index = nextIndex(search); index !== undefined; index = nextIndex(search)) {
    judged.push(index);
    const verdict: Judged = unbuildable.has(index) ? "skip" : index >= flip ? "new" : "old";
    search = record(search, index, verdict);
  }
  return { result: outcome(search), judged };
}

describe("bisect search", () => {
  it("finds the flip at every position of chains of many lengths, in at most ceil(log2(n)) judgements", () => {
    for (const last of [1, 2, 3, 4, 7, 16, 197]) {
      for (let flip = 1; flip <= last; flip++) {
        const { result, judged } = bisect(last, flip);
        expect(result, `last ${last} flip ${flip}`).toEqual({ kind: "found", index: flip });
        expect(judged.length).toBeLessThanOrEqual(stepsLeft(startSearch(last)));
        expect(new Set(judged).size).toBe(judged.length);
      }
    }
  });

  it("estimates the steps as git bisect does: 197 commits take about 8", () => {
    expect(stepsLeft(startSearch(197))).toBe(8);
    expect(stepsLeft(startSearch(1))).toBe(0);
    expect(stepsLeft(startSearch(2))).toBe(1);
  });

  it("steps around commits that do not build and still names the flip when a judged neighbour pins it", () => {
    const { result, judged } = bisect(40, 23, new Set([20, 21, 19]));
    expect(result).toEqual({ kind: "found", index: 23 });
    expect(judged).toContain(20);
  });

  it("when only unbuildable commits are left, names every candidate, the flip among them", () => {
    const { result } = bisect(40, 23, new Set([21, 22, 23]));
    // 20 judged old, 24 new, 21-23 unbuildable: the flip is at one of 21..24
    expect(result).toEqual({ kind: "ambiguous", indices: [21, 22, 23, 24] });
  });

  it("refuses a judgement outside the open interval (a bug in the caller, not a verdict)", () => {
    expect(() => record(startSearch(10), 0, "old")).toThrow(/outside/);
    expect(() => record(startSearch(10), 10, "new")).toThrow(/outside/);
  });
});

const info = (overrides: Partial<CommitInfo>): CommitInfo => ({
  commit: "9ccae63974755d845337fa6b6648ed0de32c9064",
  describe: "v1.8.10-53-g9ccae639",
  exactTag: undefined,
  subject: "nft: Leave interface masks alone when parsing from kernel",
  date: "2023-11-17T01:10:50+01:00",
  author: "A. Author",
  ...overrides,
});

describe("labels of builds from git", () => {
  it("at a tag, the build must claim the tag's release and its binaries must print it", () => {
    const atTag = info({
      commit: "8ae55c2a331e932c0aeef8c6c138bf60deb9fd42",
      describe: "v1.8.10",
      exactTag: "v1.8.10",
    });
    expect(gitNameProblem({ name: "1.8.10", version: "1.8.10" }, atTag)).toBeUndefined();
    expect(gitNameProblem({ name: "1.8.11", version: "1.8.11" }, atTag)).toMatch(
      /claims 1\.8\.11, but its commit is tag v1\.8\.10/,
    );
    expect(
      gitVersionProblem({ version: "1.8.10" }, ["iptables v1.8.10 (nf_tables)", "iptables v1.8.10 (legacy)"]),
    ).toBeUndefined();
    expect(gitVersionProblem({ version: "1.8.10" }, ["iptables v1.8.9 (nf_tables)"])).toMatch(
      /claims 1\.8\.10 but says: iptables v1\.8\.9/,
    );
    expect(gitVersionProblem({ version: "1.8.1" }, ["iptables v1.8.10 (nf_tables)"])).toMatch(
      /claims 1\.8\.1 but says/,
    );
  });

  it("between tags, the build must be named by its commit", () => {
    const between = info({});
    expect(gitNameProblem({ name: "1.8.10", version: "1.8.10" }, between)).toMatch(
      /between tags: name the build by its commit \(e\.g\. "git-9ccae6397475"\)/,
    );
    expect(gitNameProblem({ name: "git-9ccae6397475", version: "1.8.10" }, between)).toBeUndefined();
  });

  it("reads a tag's release number", () => {
    expect(tagVersion("v1.8.10")).toBe("1.8.10");
    expect(tagVersion("iptables-1.8.11")).toBe("1.8.11");
    expect(tagVersion("main")).toBeUndefined();
  });

  it("provenance keeps commit, describe, subject and date, one line each, whatever the subject holds", () => {
    const written = gitProvenance(info({ subject: "a=b: odd\nsubject" }));
    const read = parseProvenance(`${written}version=iptables v1.8.10 (nf_tables)\nversion=iptables v1.8.10 (legacy)\n`);
    expect(read.get("commit")).toEqual(["9ccae63974755d845337fa6b6648ed0de32c9064"]);
    expect(read.get("describe")).toEqual(["v1.8.10-53-g9ccae639"]);
    expect(read.get("subject")).toEqual(["a=b: odd subject"]);
    expect(read.get("source")).toEqual(["git"]);
    expect(read.get("version")).toEqual(["iptables v1.8.10 (nf_tables)", "iptables v1.8.10 (legacy)"]);
    expect(read.get("package")?.[0]).toBe(
      "upstream git v1.8.10-53-g9ccae639 (commit 9ccae6397475, 2023-11-17): a=b: odd subject",
    );
  });
});

describe("runBisect with a scripted judge", () => {
  const ids = Array.from({ length: 21 }, (_, i) => `c${i}`);
  const infoOf = (commit: string) => ({
    commit,
    describe: `d-${commit}`,
    subject: `subject of ${commit}`,
    date: "2024-01-02T03:04:05+01:00",
    author: "A. Author",
  });
  const plan = (direction: "regression" | "fix"): BisectPlan => ({
    by: "probe",
    repository: "repo.bundle",
    mirror: {
      info: async (commit: string) => ({ ...infoOf(commit), exactTag: undefined }),
    } as unknown as BisectPlan["mirror"],
    good: direction === "regression" ? { ref: "old", commit: "c0" } : { ref: "new", commit: "c20" },
    bad: direction === "regression" ? { ref: "new", commit: "c20" } : { ref: "old", commit: "c0" },
    direction,
    older: "c0",
    chain: ids.slice(1),
    backend: "nft",
    cell: undefined,
  });
  /** The probe flips at c13: before it one answer, from it on the other; c13's neighbours listed in `unbuildable` do not build. */
  const judge =
    (before: "good" | "bad", unbuildable: string[] = [], calls: string[] = []): Judge =>
    async (commit) => {
      calls.push(commit);
      const built = !unbuildable.includes(commit);
      const verdict = !built ? "skip" : Number(commit.slice(1)) >= 13 ? (before === "good" ? "bad" : "good") : before;
      return {
        info: infoOf(commit),
        build: { status: built ? "built" : "failed", ms: 5, versions: [] },
        verdict,
        observed: verdict === "bad" ? "buggy" : "correct",
        judgeMs: 1,
      };
    };
  const io = async () => {
    const lines: string[] = [];
    return {
      runId: "bisect-test",
      outDir: await mkdtemp(join(tmpdir(), "fwcompat-bisect-unit-")),
      say: (l: string) => lines.push(l),
      lines,
    };
  };

  it("names the first bad commit and its parent, prints 'step k of ~N', and keeps bisect.json", async () => {
    const out = await io();
    const file = await runBisect(plan("regression"), judge("good"), out);
    expect(file.result).toMatchObject({
      kind: "first-bad",
      commit: "c13",
      subject: "subject of c13",
      parent: { commit: "c12", observed: "correct" },
    });
    expect(file.steps.map((s) => s.role).slice(0, 2)).toEqual(["good", "bad"]);
    expect(out.lines.filter((l) => /^step \d+ of ~5 /.test(l)).length).toBe(file.steps.length - 2);
    const kept = bisectFileSchema.parse(JSON.parse(await readFile(join(out.outDir, "bisect.json"), "utf8")));
    expect(kept).toEqual(file);
  });

  it("given bad older than good, names the fixing commit", async () => {
    const file = await runBisect(plan("fix"), judge("bad"), await io());
    expect(file.result).toMatchObject({ kind: "fixing", commit: "c13", parent: { commit: "c12", observed: "buggy" } });
  });

  it("skips commits that do not build and counts them", async () => {
    const file = await runBisect(plan("regression"), judge("good", ["c10", "c11"]), await io());
    expect(file.result?.commit).toBe("c13");
    expect(file.builds.failed).toBeGreaterThan(0);
    expect(file.builds.failed).toBe(file.steps.filter((s) => s.verdict === "skip").length);
  });

  it("an endpoint judged against the claim is bad input, kept as a failed bisect", async () => {
    const out = await io();
    await expect(runBisect(plan("regression"), judge("bad"), out)).rejects.toThrow(
      new UserError("--good old is not good by the -C probe: buggy"),
    );
    const kept = bisectFileSchema.parse(JSON.parse(await readFile(join(out.outDir, "bisect.json"), "utf8")));
    expect(kept.state).toBe("failed");
  });

  it("a judge that throws is tried once more; throwing twice fails the bisect as a harness failure", async () => {
    let throws = 1;
    const flaky: Judge = async (commit) => {
      if (throws-- > 0) throw new Error("engine busy");
      return judge("good")(commit);
    };
    expect((await runBisect(plan("regression"), flaky, await io())).state).toBe("found");
    const out = await io();
    const broken: Judge = async () => {
      throw new Error("engine gone");
    };
    await expect(runBisect(plan("regression"), broken, out)).rejects.toThrow("engine gone");
    expect(JSON.parse(await readFile(join(out.outDir, "bisect.json"), "utf8"))).toMatchObject({
      state: "failed",
      reason: "engine gone",
    });
  });
});

describe("where a repository is", () => {
  it("a URL only with downloads allowed; a path as given; a bare name in the local source directory, FWCOMPAT_SOURCE_DIR first", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fwcompat-sources-"));
    const other = await mkdtemp(join(tmpdir(), "fwcompat-sources-"));
    await writeFile(join(dir, "up.bundle"), "");
    const saved = process.env.FWCOMPAT_SOURCE_DIR;
    try {
      delete process.env.FWCOMPAT_SOURCE_DIR;
      expect(await locateRepository("https://git.example.invalid/iptables", { allowDownloads: false })).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/downloads are disabled/),
      });
      expect(await locateRepository("https://git.example.invalid/iptables", { allowDownloads: true })).toEqual({
        ok: true,
        location: "https://git.example.invalid/iptables",
        remote: true,
      });
      expect(await locateRepository(join(dir, "up.bundle"), { allowDownloads: false })).toEqual({
        ok: true,
        location: join(dir, "up.bundle"),
        remote: false,
      });
      expect(await locateRepository("up.bundle", { allowDownloads: false })).toEqual({
        ok: false,
        reason: "repository up.bundle: no local source directory set (settings.sourceDir or FWCOMPAT_SOURCE_DIR)",
      });
      expect(await locateRepository("up.bundle", { allowDownloads: false, sourceDir: dir })).toEqual({
        ok: true,
        location: join(dir, "up.bundle"),
        remote: false,
      });
      process.env.FWCOMPAT_SOURCE_DIR = other;
      expect(await locateRepository("up.bundle", { allowDownloads: false, sourceDir: dir })).toEqual({
        ok: false,
        reason: `repository up.bundle is not in the local source directory ${other}`,
      });
    } finally {
      if (saved === undefined) delete process.env.FWCOMPAT_SOURCE_DIR;
      else process.env.FWCOMPAT_SOURCE_DIR = saved;
    }
  });
});

/** The repository's default matrix, parsed as a run parses it. */
async function defaultMatrix() {
  const { parseMatrixText } = await import("../../src/config/load.js");
  const { KNOWN_NAMES } = await import("../../src/run/registry.js");
  const text = await readFile(new URL("../../matrix.yaml", import.meta.url), "utf8");
  return parseMatrixText(text, "matrix.yaml", KNOWN_NAMES);
}

describe("the repository a bisect searches", () => {
  it("is the one the builds come from by git; an alternative route to it (upstream's URL) does not make it ambiguous", async () => {
    const { repositoryOf } = await import("../../src/run/bisect/plan.js");
    const matrix = await defaultMatrix();
    const tenTen = matrix.iptables.find((b) => b.name === "1.8.10");
    // the default matrix's 1.8.10: from the bundle, with upstream git as an online alternative
    expect(tenTen?.source).toMatchObject({ kind: "git", repository: "iptables-upstream.bundle" });
    expect(tenTen?.alternatives.some((a) => a.kind === "git" && a.repository !== "iptables-upstream.bundle")).toBe(
      true,
    );
    expect(repositoryOf({ matrix, matrixFile: "matrix.yaml", repository: undefined })).toBe("iptables-upstream.bundle");
    expect(repositoryOf({ matrix, matrixFile: "matrix.yaml", repository: "other.bundle" })).toBe("other.bundle");
  });
});

describe("the topology a bisect by traffic runs its cells on", () => {
  it("is the one the matrix runs the scenario on, so the multi-node cells' topology does not make it ambiguous", async () => {
    const { topologiesOf } = await import("../../src/run/bisect/plan.js");
    const matrix = await defaultMatrix();
    const names = (scenario: string) => topologiesOf(scenario, matrix).map((t) => t.name);
    expect(matrix.topologies.map((t) => t.name).sort()).toEqual(["2-nodes", "3-bridges"]);
    expect(names("curl-timeout")).toEqual(["3-bridges"]);
    expect(names("flush-then-run:filter")).toEqual(["3-bridges"]);
    expect(names("snat-lost")).toEqual(["2-nodes"]);
    // a scenario the matrix does not run: the topologies with the nodes it needs
    expect(names("secure-exec:setgid-stand-in")).toEqual(["3-bridges"]);
    const oneNodeOnly = { ...matrix, matrix: matrix.matrix.filter((b) => !b.topology.includes("2-nodes")) };
    expect(topologiesOf("ip-forward-off:cross-node", oneNodeOnly).map((t) => t.name)).toEqual(["2-nodes"]);
  });
});
