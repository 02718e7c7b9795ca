import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { GitMirror } from "../../src/harness/git/repository.js";
import { bisectFileSchema, type BisectFile, type BisectStep } from "../../src/results/bisect.js";
import { cellResultSchema, type CellResult } from "../../src/results/schema.js";
import { labelledContainers, runCli } from "../support/cli.js";
import { sharedSources } from "./sources.js";
import { scratchDir } from "../support/scratch.js";

// Real builds of upstream commits from the bundle, real -C probes, real cells: nothing here
// names a commit id; every expectation is derived from the repository or the bisect itself.
const ROOT = new URL("../../", import.meta.url).pathname;
const env = { FWCOMPAT_SOURCE_DIR: sharedSources() };
const BUNDLE = join(env.FWCOMPAT_SOURCE_DIR, "iptables-upstream.bundle");

interface BisectRun {
  exitCode: number | undefined;
  stdout: string;
  output: string;
  file: BisectFile | undefined;
  dir: string;
}

async function bisect(args: string[], timeoutMs: number): Promise<BisectRun> {
  const dir = await scratchDir("fwcompat-bisect-");
  const run = await runCli(["bisect", ...args, "--out", dir], { timeoutMs, env });
  const path = join(dir, "bisect.json");
  const file = existsSync(path) ? bisectFileSchema.parse(JSON.parse(await readFile(path, "utf8"))) : undefined;
  return { exitCode: run.exitCode, stdout: run.stdout, output: `${run.stderr}\n${run.stdout}`.slice(-4000), file, dir };
}

const stepOf = (file: BisectFile | undefined, commit: string | undefined): BisectStep | undefined =>
  file?.steps.find((s) => s.commit === commit);
const git = async (...args: string[]) => (await execa("git", ["-C", mirror.gitDir, ...args])).stdout.trim();

let mirror: GitMirror;
let probe: BisectRun;

beforeAll(async () => {
  mirror = await GitMirror.open(BUNDLE);
  probe = await bisect(["--good", "v1.8.10", "--bad", "v1.8.11", "--by", "probe"], 40 * 60_000);
}, 45 * 60_000);

describe("fwcompat bisect --by probe over v1.8.10..v1.8.11 of the upstream bundle", () => {
  it("exits 0 and names the first bad commit of the range by id, subject and date", async () => {
    expect(probe.exitCode, probe.output).toBe(0);
    const result = probe.file?.result;
    expect(probe.file?.state).toBe("found");
    expect(result?.kind).toBe("first-bad");
    const range = (await git("rev-list", "--first-parent", "v1.8.10..v1.8.11")).split("\n");
    expect(range).toContain(result?.commit);
    expect(probe.file?.commits).toBe(range.length);
    const [subject, date] = (await git("log", "-1", "--format=%s%x00%aI", result?.commit ?? "")).split("\0");
    expect(result?.subject).toBe(subject);
    expect(result?.date).toBe(date);
    expect(probe.stdout).toContain(`first bad commit: ${result?.commit}`);
  });

  it("the first bad commit's build is buggy, its parent's is correct", async () => {
    const result = probe.file?.result;
    const parent = await git("rev-parse", `${result?.commit}^`);
    expect(result?.parent.commit).toBe(parent);
    expect(stepOf(probe.file, result?.commit)).toMatchObject({ verdict: "bad", observed: "buggy" });
    expect(stepOf(probe.file, parent)).toMatchObject({ verdict: "good", observed: "correct" });
    // between the tags every build prints the release before it: they are named by commit, never by a release
    expect(stepOf(probe.file, result?.commit)?.build.versions).toContain("iptables v1.8.10 (nf_tables)");
  });

  it("judges both endpoints, then at most ceil(log2(N)) steps, each printed as 'step k of ~N' with build and judge timings", () => {
    const steps = probe.file?.steps ?? [];
    expect(steps.slice(0, 2).map((s) => [s.role, s.verdict])).toEqual([
      ["good", "good"],
      ["bad", "bad"],
    ]);
    const searched = steps.filter((s) => s.role === "step");
    expect(searched.length).toBeGreaterThan(0);
    expect(searched.length).toBeLessThanOrEqual(Math.ceil(Math.log2(probe.file?.commits ?? 0)));
    for (const step of searched) {
      expect(probe.stdout).toMatch(
        new RegExp(
          `^step ${step.k} of ~${step.of} +${step.commit.slice(0, 12)} .*build \\d+\\.\\ds \\((built|cached)\\) .*judged +\\d+\\.\\ds +(buggy|correct) → (good|bad)`,
          "m",
        ),
      );
      expect(
        step.build.status === "failed" ||
          step.build.tag?.startsWith(`fwcompat/iptables:git-${step.commit.slice(0, 12)}-`),
      ).toBe(true);
    }
    const builds = probe.file?.builds;
    expect((builds?.built ?? 0) + (builds?.cached ?? 0) + (builds?.failed ?? 0)).toBe(steps.length);
  });

  it(
    "given a bad → good range it names the fixing commit, and builds of commits judged before are reused",
    async () => {
      const fix = await bisect(["--bad", "v1.8.11", "--good", "main", "--by", "probe"], 20 * 60_000);
      expect(fix.exitCode, fix.output).toBe(0);
      expect(fix.file?.direction).toBe("fix");
      expect(fix.file?.result?.kind).toBe("fixing");
      const fixing = fix.file?.result?.commit;
      expect(stepOf(fix.file, fixing)).toMatchObject({ observed: "correct", verdict: "good" });
      expect(stepOf(fix.file, await git("rev-parse", `${fixing}^`))).toMatchObject({
        observed: "buggy",
        verdict: "bad",
      });
      expect(fix.stdout).toContain(`fixing commit: ${fixing}`);
      expect(stepOf(fix.file, await git("rev-parse", "v1.8.11^{commit}"))?.build.status).toBe("cached");
    },
    25 * 60_000,
  );

  it(
    "bad input is one line and exit 2, with nothing started",
    async () => {
      const repo = await scratchDir("fwcompat-branches-");
      const g = (...args: string[]) =>
        execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", repo, ...args]);
      await g("init", "-q", "-b", "trunk");
      await g("commit", "-q", "--allow-empty", "-m", "base");
      await g("checkout", "-q", "-b", "side");
      await g("commit", "-q", "--allow-empty", "-m", "on a side branch");
      await g("checkout", "-q", "-b", "merged", "trunk");
      await g("commit", "-q", "--allow-empty", "-m", "on a branch merged later");
      await g("checkout", "-q", "trunk");
      await g("commit", "-q", "--allow-empty", "-m", "on trunk");
      await g("merge", "-q", "--no-ff", "-m", "merge", "merged");
      const bisectDirs = async () =>
        (await readdir(join(ROOT, "results")).catch(() => [] as string[])).filter((d) => d.startsWith("bisect-"))
          .length;
      const before = await bisectDirs();
      const cases: Array<[string[], RegExp]> = [
        [
          ["--good", "v1.8.10", "--bad", "v9.9.9"],
          /^fwcompat: --bad 'v9\.9\.9': no such commit, tag or branch in iptables-upstream\.bundle$/m,
        ],
        [
          ["--good", "v1.8.10", "--bad", "v1.8.10^{commit}"],
          /^fwcompat: --good v1\.8\.10 and --bad v1\.8\.10\^\{commit\} are the same commit \([0-9a-f]{12}\): nothing to bisect$/m,
        ],
        [
          ["--repository", repo, "--good", "side", "--bad", "trunk"],
          /^fwcompat: --good side and --bad trunk are not ancestor and descendant: bisect needs one to contain the other$/m,
        ],
        [
          ["--repository", repo, "--good", "merged", "--bad", "trunk"],
          /^fwcompat: merged is not on the first-parent line of trunk \(it is only on a merged branch\); bisect from a commit on that line$/m,
        ],
        [
          [
            "--good",
            "v1.8.10",
            "--bad",
            "v1.8.11",
            "--by",
            "traffic",
            "--scenario",
            "curl-timeout",
            "--engine",
            "docker-99",
          ],
          /^fwcompat: --engine 'docker-99': unknown engine; matrix\.yaml declares /m,
        ],
        [
          ["--good", "v1.8.10", "--bad", "v1.8.11", "--repository", "no-such.bundle"],
          /^fwcompat: repository no-such\.bundle is not in the local source directory /m,
        ],
      ];
      // the throwaway repository's mirror goes to a throwaway cache
      const cache = { ...env, FWCOMPAT_GIT_CACHE: join(repo, ".mirrors") };
      for (const [args, message] of cases) {
        const run = await runCli(["bisect", ...args], { timeoutMs: 60_000, env: args.includes(repo) ? cache : env });
        expect(run.exitCode, run.stderr).toBe(2);
        expect(
          run.stderr
            .trim()
            .split("\n")
            .filter((l) => l.startsWith("fwcompat:")),
        ).toHaveLength(1);
        expect(run.stderr).toMatch(message);
        // nothing started: no bisect announced, no output directory made
        expect(run.stderr).not.toMatch(/results in /);
      }
      expect(await bisectDirs()).toBe(before);
    },
    5 * 60_000,
  );

  it(
    "an endpoint judged against the user's claim is bad input too: exit 2, one line, the judgement kept",
    async () => {
      const wrong = await bisect(["--good", "v1.8.11", "--bad", "main", "--by", "probe"], 10 * 60_000);
      expect(wrong.exitCode, wrong.output).toBe(2);
      expect(wrong.output).toMatch(/^fwcompat: --good v1\.8\.11 is not good by the -C probe: buggy$/m);
      expect(wrong.file?.state).toBe("failed");
      expect(wrong.file?.steps[0]).toMatchObject({ role: "good", observed: "buggy", build: { status: "cached" } });
    },
    15 * 60_000,
  );
});

describe("fwcompat bisect --by traffic over a short range around that commit", () => {
  let traffic: BisectRun;
  let firstBad = "";
  const cells = new Map<string, CellResult>();

  beforeAll(async () => {
    firstBad = probe.file?.result?.commit ?? "";
    if (!firstBad) throw new Error(`the probe bisect found nothing to bisect around:\n${probe.output}`);
    const grandparent = await git("rev-parse", `${firstBad}~2`);
    const [child] = (await git("rev-list", "--first-parent", "--reverse", `${firstBad}..v1.8.11`)).split("\n");
    traffic = await bisect(
      [
        "--good",
        grandparent,
        "--bad",
        child ?? "",
        "--by",
        "traffic",
        "--scenario",
        "curl-timeout",
        "--engine",
        "docker-28.5.2",
        "--daemon",
        "proxy-off",
      ],
      40 * 60_000,
    );
    for (const file of await readdir(join(traffic.dir, "cells")).catch(() => [])) {
      const cell = cellResultSchema.parse(JSON.parse(await readFile(join(traffic.dir, "cells", file), "utf8")));
      cells.set(cell.cell.id, cell);
    }
  }, 45 * 60_000);

  it("flips at the same commit as the probe", () => {
    expect(traffic.exitCode, traffic.output).toBe(0);
    expect(traffic.file?.result).toMatchObject({ kind: "first-bad", commit: firstBad });
    expect(traffic.file?.commits).toBe(3);
    expect(traffic.stdout).toMatch(/^step 1 of ~2 /m);
  });

  it("every judged commit is a real cell: its build's commit in the provenance, the host's own -C probe and the traffic agree", async () => {
    const parent = await git("rev-parse", `${firstBad}^`);
    expect(traffic.file?.steps.length).toBe(4);
    for (const step of traffic.file?.steps ?? []) {
      const cell = cells.get(step.cell ?? "");
      expect(cell, `no cell for ${step.commit}`).toBeDefined();
      const evidence = cell?.baseline?.evidence;
      expect(evidence?.iptablesCommit?.commit).toBe(step.commit);
      expect(evidence?.iptablesVersion).toBe("iptables v1.8.10 (nf_tables)");
      const broken = step.commit === firstBad || step.role === "bad";
      expect(cell?.status).toBe(broken ? "reproduced" : "works");
      expect(evidence?.checkProbe).toBe(broken ? "buggy" : "correct");
      expect(step.verdict).toBe(broken ? "bad" : "good");
    }
    expect(stepOf(traffic.file, parent)?.verdict).toBe("good");
    expect(await labelledContainers(traffic.file?.runId)).toBe(0);
  });

  it("fwcompat report renders both bisects, with links to the traffic cells", async () => {
    const out = await scratchDir("fwcompat-bisect-report-");
    const run = await runCli(["report", probe.dir, traffic.dir, "--out", out], { timeoutMs: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const html = await readFile(join(out, "index.html"), "utf8");
    expect(html.match(/<section class="bisect"/g)).toHaveLength(2);
    expect(html).toContain(`first bad commit: ${firstBad}`);
    expect(html).toContain(probe.file?.result?.subject.replace(/&/g, "&amp;").replace(/</g, "&lt;") ?? "(none)");
    const firstBadCell = stepOf(traffic.file, firstBad)?.cell ?? "(none)";
    expect(html).toContain(`href="#cell-${firstBadCell}"`);
    expect(html).toContain(`id="cell-${firstBadCell}"`);
    const markdown = await readFile(join(out, "report.md"), "utf8");
    expect(markdown).toContain("## Bisect v1.8.10 (good) .. v1.8.11 (bad)");
  });
});
