import { access } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { parseCall, parseTrace } from "../../src/assertions/trace.js";
import { GitMirror } from "../../src/harness/git/repository.js";
import type { CellResult } from "../../src/results/schema.js";
import { leftovers, sourceDirForTests } from "../support/cli.js";
import { runMatrixForTest, type MatrixRun } from "../support/matrix-run.js";
import { expectEvery } from "../support/quantifiers.js";
import { fixOf, userActionOf } from "../support/cell-parts.js";
import { warmedImages } from "../support/warmed.js";

// Docker 29.7.2 is compiled by the warm-up's docker29.yaml entry (the same engine image)
await warmedImages("test/fixtures/matrices/docker29.yaml");

// iptables 1.8.12 and 1.8.13 built from the upstream bundle, Docker 28.5.2 (Debian) and 29.7.2 (compiled
// from the moby archive), real traffic. The AT_SECURE condition is the labelled stand-in (set-group-id
// iptables binaries): this machine's kernel runs no LSM. Builds and engines are cached after the first run.
const RUN_MS = 40 * 60_000;
let run: MatrixRun;
let mirror: GitMirror;

beforeAll(
  async () => {
    const sources = await sourceDirForTests();
    for (const file of ["iptables-upstream.bundle", "moby-docker-v29.7.2.tar.xz"])
      await access(join(sources, file)).catch(() => {
        throw new Error(`${file} is not in ${sources}: set FWCOMPAT_SOURCE_DIR to the directory holding it`);
      });
    mirror = await GitMirror.open(join(sources, "iptables-upstream.bundle"));
    run = await runMatrixForTest("test/fixtures/matrices/secure-exec.yaml", {
      timeoutMs: RUN_MS,
      env: { FWCOMPAT_SOURCE_DIR: sources },
    });
  },
  RUN_MS + 5 * 60_000,
);

const tagCommit = async (tag: string) =>
  (await execa("git", ["-C", mirror.gitDir, "rev-parse", `${tag}^{commit}`])).stdout.trim();
const secure = (build: string, daemon: string) =>
  run.cell(
    `secure-exec+setgid-stand-in__dind__${daemon === "proxy-off" ? "docker-28.5.2" : "docker-29.7.2"}__${build}-nft__${daemon}`,
  );
const step = (result: CellResult, name: string) => result.baseline?.steps.find((s) => s.name.startsWith(name));
const PUBLISHED = ["localhost", "host-ip", "external"];
const UNDER = "under the condition";
/** dockerd's iptables calls in the baseline's trace that exited 111 and printed nothing */
const refusedCalls = (result: CellResult) =>
  parseTrace(result.baseline?.traceLog ?? "").filter(
    (c) => c.caller === "dockerd" && c.tool !== "nft" && c.exitCode === 111 && c.stderr === "",
  );

describe("iptables 1.8.12 and 1.8.13 from upstream git", () => {
  it("the run finishes (exit 1: it reproduces something), every cell has a result, nothing is left on the engine", async () => {
    expect([0, 1], run.output.slice(-2000)).toContain(run.exitCode);
    expect(run.cells.size).toBe(10);
    expectEvery([...run.cells.values()], (c) => c.status !== "error" && c.status !== "unavailable", "cells");
    expect(await leftovers(run.runId)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it("each row is its pinned tag's commit, prints its release, and the -C self-probe finds it fixed", async () => {
    for (const [build, daemon, engine] of [
      ["1.8.12", "proxy-off", "docker-28.5.2"],
      ["1.8.13", "proxy-off", "docker-28.5.2"],
      ["1.8.12", "fw-iptables", "docker-29.7.2"],
      ["1.8.13", "fw-iptables", "docker-29.7.2"],
    ] as const) {
      const result = run.cell(`curl-timeout__dind__${engine}__${build}-nft__${daemon}`);
      const evidence = result.baseline?.evidence;
      expect(evidence?.iptablesCommit?.commit).toBe(await tagCommit(`v${build}`));
      expect(evidence?.iptablesVersion).toBe(`iptables v${build} (nf_tables)`);
      expect(evidence?.checkProbe, result.cell.id).toBe("correct");
      // the curl-timeout cell works: nothing skipped, every published port answers from every vantage
      expect(result.status, result.cell.id).toBe("works");
      expect(result.baseline?.trace?.skippedRules).toEqual([]);
      expectEvery(
        result.baseline?.probes.filter((p) => PUBLISHED.includes(p.vantage)),
        (p) => p.pass,
      );
    }
  });
});

describe("secure-exec:setgid-stand-in (AT_SECURE for every iptables dockerd runs; a labelled stand-in)", () => {
  it("the condition step says what it did to each build: set-group-id to its own group, own libraries", () => {
    for (const result of [secure("1.8.12", "proxy-off"), secure("1.8.13", "fw-iptables")]) {
      const applied = step(result, "put the condition in place (setgid-stand-in, a stand-in)");
      expect(applied?.exitCode).toBe(0);
      for (const build of ["1.8.10", "1.8.12", "1.8.13"])
        expect(applied?.stdout).toMatch(
          new RegExp(
            `^secure exec: /opt/fwcompat/iptables/${build.replace(/\./g, "\\.")}/sbin/xtables-nft-multi -rwxr-sr-x root:fwcompat-secure, its own libraries \\(RUNPATH\\)$`,
            "m",
          ),
        );
    }
  });

  it("1.8.12 in the operator's shell: `iptables --version` exits 111 and prints nothing; 1.8.13 answers", () => {
    expect(step(secure("1.8.12", "proxy-off"), `${UNDER}: iptables --version`)?.stdout.trim()).toBe("exit status 111");
    expect(step(secure("1.8.13", "proxy-off"), `${UNDER}: iptables --version`)?.stdout.trim()).toBe(
      "iptables v1.8.13 (nf_tables)\nexit status 0",
    );
  });

  for (const daemon of ["proxy-off", "fw-iptables"]) {
    describe(`1.8.12 on ${daemon === "proxy-off" ? "28.5.2" : "29.7.2's iptables backend"}`, () => {
      it("dockerd refuses to start again, in its own words, naming exit status 111; the user's actions fail", () => {
        const result = secure("1.8.12", daemon);
        const restart = userActionOf(result, UNDER, "restart dockerd");
        expect(restart?.ok).toBe(false);
        expect(restart?.error).toMatch(/failed to start daemon.*exit status 111/);
        expect(result.baseline?.errors.some((e) => e.signature === "iptables-exit-111")).toBe(true);
        expect(userActionOf(result, UNDER, "docker run -p")?.ok).toBe(false);
        expect(userActionOf(result, UNDER, "docker network create")?.ok).toBe(false);
        expect(userActionOf(result, UNDER, "docker run -p")?.error).toMatch(/Cannot connect to the Docker daemon/);
      });

      it("every published port is dead from every vantage: the cell reproduces", () => {
        const result = secure("1.8.12", daemon);
        expect(result.status).toBe("reproduced");
        expect(result.brokenVantages).toEqual(expect.arrayContaining([...PUBLISHED, "user-action"]));
        expectEvery(
          result.baseline?.probes.filter((p) => PUBLISHED.includes(p.vantage)),
          (p) => !p.pass,
        );
      });

      it("the trace holds dockerd's calls that exited 111 with no output, and the explanation names them", () => {
        const result = secure("1.8.12", daemon);
        const refused = refusedCalls(result);
        expect(refused.length).toBeGreaterThan(0);
        expect(refused.some((c) => parseCall(c.args).operation === "new-chain")).toBe(true);
        expect(result.baseline?.trace?.silentRefusals).toBe(refused.length);
        expect(result.baseline?.trace?.explanation).toMatch(
          /^\d+ iptables call\(s\) by dockerd exited 111 with no output/,
        );
      });

      it("fixes judged by traffic: upgrade to 1.8.13 and downgrade to 1.8.10 repair it; a restart does not", () => {
        const result = secure("1.8.12", daemon);
        const upgrade = fixOf(result, "iptables-upgrade");
        expect(upgrade.attempt.fixNote).toBe("iptables 1.8.12 (nft) -> 1.8.13 (nft), then dockerd restarted");
        expect(upgrade.verdict.overall).toBe("repaired");
        const downgrade = fixOf(result, "iptables-downgrade");
        expect(downgrade.attempt.fixNote).toBe("iptables 1.8.12 (nft) -> 1.8.10 (nft), then dockerd restarted");
        expect(downgrade.verdict.overall).toBe("repaired");
        for (const repaired of [upgrade, downgrade]) {
          for (const vantage of PUBLISHED) expect(repaired.verdict.vantages[vantage], vantage).toBe("repaired");
          expectEvery(
            repaired.attempt.userActions.filter((a) => a.when === "after fix"),
            (a) => a.ok,
          );
        }
        const restart = fixOf(result, "restart-dockerd");
        expect(restart.verdict.overall).toBe("still-broken");
        expect(restart.attempt.fixNote).toMatch(/the engine refused to come back.*exit status 111/);
      });
    });
  }

  describe("1.8.12 on 29.7.2's nftables backend", () => {
    it("dockerd restarts and every port answers: this backend only asks iptables whether old rules are left", () => {
      const result = secure("1.8.12", "fw-nftables");
      expect(result.status).toBe("works");
      expect(userActionOf(result, UNDER, "restart dockerd")?.ok).toBe(true);
      expect(userActionOf(result, UNDER, "docker run -p")?.ok).toBe(true);
      expect(userActionOf(result, UNDER, "docker network create")?.ok).toBe(true);
    });

    it("its refused calls are the -C checks for a previous iptables backend's jump rules, and nothing else", () => {
      const result = secure("1.8.12", "fw-nftables");
      const refused = refusedCalls(result);
      expectEvery(
        refused,
        (c) => parseCall(c.args).operation === "check" && c.args.includes("FORWARD"),
        "refused calls",
      );
      expect(result.baseline?.trace?.failedCalls).toEqual([]);
      expect(result.baseline?.trace?.silentRefusals).toBe(refused.length);
    });

    it("the iptables fixes do not apply there; a restart changes nothing", () => {
      const result = secure("1.8.12", "fw-nftables");
      expect(fixOf(result, "iptables-upgrade").verdict.overall).toBe("not-applicable");
      expect(fixOf(result, "iptables-downgrade").verdict.overall).toBe("not-applicable");
      expect(fixOf(result, "restart-dockerd").verdict.overall).toBe("ok");
    });
  });

  describe("1.8.13 under the same condition (the control)", () => {
    for (const daemon of ["proxy-off", "fw-iptables", "fw-nftables"]) {
      it(`${daemon}: dockerd restarts, the user's actions and every port work, and no call was refused`, () => {
        const result = secure("1.8.13", daemon);
        expect(result.status).toBe("works");
        expectEvery(result.baseline?.userActions, (a) => a.ok, "user actions");
        expect(refusedCalls(result)).toEqual([]);
        expect(result.baseline?.trace?.silentRefusals).toBe(0);
        expect(fixOf(result, "restart-dockerd").verdict.overall).toBe("ok");
      });
    }
  });
});
