import { access } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { CONFIRM } from "../../scenarios/secure-exec.js";
import { DOCKERD_PROFILE, IPTABLES_PROFILE } from "../../scenarios/lib/apparmor-confinement.js";
import { parseCall, parseTrace } from "../../src/assertions/trace.js";
import { GitMirror } from "../../src/harness/git/repository.js";
import type { CellResult, StepRecord } from "../../src/results/schema.js";
import { sourceDirForTests } from "../support/cli.js";
import { runMatrixForTest, type MatrixRun } from "../support/matrix-run.js";
import { expectEvery } from "../support/quantifiers.js";
import { fixOf, userActionOf } from "../support/cell-parts.js";
import { libvirtLeftoversOnDisk } from "../support/libvirt-leftovers.js";

// The real LSM case, in VMs of the vagrant lane (Debian trixie, kernel 6.12, AppArmor its LSM): dockerd
// (the box's docker.io 26.1.5) confined by an AppArmor profile whose exec rules for the iptables
// binaries are Px, so the kernel hands each iptables dockerd runs AT_SECURE=1. iptables 1.8.12 and
// 1.8.13 from the upstream bundle. 6 VM attempts: about half an hour under software emulation.
const RUN_MS = 60 * 60_000;
let run: MatrixRun;
let mirror: GitMirror;

beforeAll(
  async () => {
    const sources = await sourceDirForTests();
    await access(join(sources, "iptables-upstream.bundle")).catch(() => {
      throw new Error(
        `iptables-upstream.bundle is not in ${sources}: set FWCOMPAT_SOURCE_DIR to the directory holding it`,
      );
    });
    mirror = await GitMirror.open(join(sources, "iptables-upstream.bundle"));
    run = await runMatrixForTest("test/fixtures/matrices/secure-exec-apparmor.yaml", {
      timeoutMs: RUN_MS,
      env: { FWCOMPAT_SOURCE_DIR: sources },
    });
  },
  RUN_MS + 5 * 60_000,
);

const tagCommit = async (tag: string) =>
  (await execa("git", ["-C", mirror.gitDir, "rev-parse", `${tag}^{commit}`])).stdout.trim();
const cell = (build: string) => run.cell(`secure-exec+apparmor__vagrant__docker-26.1.5__${build}-nft__proxy-off`);
const PUBLISHED = ["localhost", "host-ip", "external"];
const UNDER = "under the condition";
const step = (steps: readonly StepRecord[], name: string) => steps.find((s) => s.name.startsWith(name));
const baselineStep = (result: CellResult, name: string) => step(result.baseline?.steps ?? [], name);
/** dockerd's iptables calls in the baseline's trace that exited 111 and printed nothing */
const refusedCalls = (result: CellResult) =>
  parseTrace(result.baseline?.traceLog ?? "").filter(
    (c) => c.caller === "dockerd" && c.tool !== "nft" && c.exitCode === 111 && c.stderr === "",
  );
const CONFINED = new RegExp(`^dockerd pid \\d+ runs under: ${DOCKERD_PROFILE} \\(enforce\\)$`);

describe("secure-exec:apparmor (the field case: dockerd confined by AppArmor, VM lane)", () => {
  it("the run finishes (exit 1: it reproduces), both cells ran in VMs with their own kernel, pinned builds", async () => {
    expect([0, 1], run.output.slice(-2000)).toContain(run.exitCode);
    expect(run.cells.size).toBe(2);
    for (const build of ["1.8.12", "1.8.13"]) {
      // an errored cell has no baseline: its reason says why
      expect(cell(build).status, cell(build).reason).not.toBe("error");
      const evidence = cell(build).baseline?.evidence;
      expect(evidence?.hostMode).toMatch(/^vagrant\/libvirt VM/);
      expect(evidence?.kernel).toMatch(/\+deb13-amd64$/);
      expect(evidence?.dockerdVersion).toMatch(/26\.1\.5/);
      expect(evidence?.iptablesCommit?.commit).toBe(await tagCommit(`v${build}`));
    }
  });

  it("the condition is not labelled a stand-in; its step loads the profiles and names the binaries it confines", () => {
    for (const build of ["1.8.12", "1.8.13"]) {
      const applied = baselineStep(cell(build), "put the condition in place (apparmor)");
      expect(applied?.name).not.toMatch(/stand-in/);
      expect(applied?.exitCode, applied?.stderr).toBe(0);
      expect(applied?.stdout).toMatch(
        new RegExp(`^AppArmor profile ${DOCKERD_PROFILE} \\(enforce\\) loaded .*: attaches to /usr/sbin/dockerd`, "m"),
      );
      expect(applied?.stdout).toContain(`enter ${IPTABLES_PROFILE} with Px`);
      for (const confined of ["1.8.10", "1.8.12", "1.8.13"])
        expect(applied?.stdout).toMatch(
          new RegExp(`^  /opt/fwcompat/iptables/${confined}/sbin/xtables-nft-multi$`, "m"),
        );
    }
  });

  it("the operator's own shell is not confined: `iptables --version` answers there even with 1.8.12", () => {
    for (const build of ["1.8.12", "1.8.13"])
      expect(baselineStep(cell(build), `${UNDER}: iptables --version`)?.stdout.trim()).toBe(
        `iptables v${build} (nf_tables)\nexit status 0`,
      );
  });

  describe("1.8.12", () => {
    it("dockerd refuses to start under the profile, in its own words, naming exit status 111; the user's actions fail", () => {
      const result = cell("1.8.12");
      const restart = userActionOf(result, UNDER, "restart dockerd");
      expect(restart?.ok).toBe(false);
      expect(restart?.error).toMatch(
        /failed to start daemon: Error initializing network controller: .*iptables failed: iptables .*\(exit status 111\)/,
      );
      expect(result.baseline?.errors.some((e) => e.signature === "iptables-exit-111")).toBe(true);
      expect(baselineStep(result, `${UNDER}: ${CONFIRM}`)?.stdout.trim()).toBe("dockerd is not running");
      expect(userActionOf(result, UNDER, "docker run -p")?.ok).toBe(false);
      expect(userActionOf(result, UNDER, "docker network create")?.ok).toBe(false);
      expect(userActionOf(result, UNDER, "docker run -p")?.error).toMatch(/Cannot connect to the Docker daemon/);
    });

    it("every published port is dead from every vantage: the cell reproduces", () => {
      const result = cell("1.8.12");
      expect(result.status).toBe("reproduced");
      expect(result.brokenVantages).toEqual(expect.arrayContaining([...PUBLISHED, "user-action"]));
      expectEvery(
        result.baseline?.probes.filter((p) => PUBLISHED.includes(p.vantage)),
        (p) => !p.pass,
      );
    });

    it("every iptables call of the confined dockerd exited 111 with no output, a new chain among them", () => {
      const result = cell("1.8.12");
      const refused = refusedCalls(result);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.some((c) => parseCall(c.args).operation === "new-chain")).toBe(true);
      // the calls before the restart (dockerd unconfined, healthy) did not exit 111; after it, none answered
      const afterRestart = parseTrace(result.baseline?.traceLog ?? "").filter(
        (c) => c.caller === "dockerd" && c.tool !== "nft" && c.startMs >= (refused[0]?.startMs ?? Infinity),
      );
      expectEvery(afterRestart, (c) => c.exitCode === 111, "dockerd's calls from the first refusal on");
      expect(result.baseline?.trace?.silentRefusals).toBe(refused.length);
    });

    it("fixes judged by traffic, still under the profile: upgrade to 1.8.13 and downgrade to 1.8.10 repair it; a restart does not", () => {
      const result = cell("1.8.12");
      const upgrade = fixOf(result, "iptables-upgrade");
      expect(upgrade.attempt.fixNote).toBe("iptables 1.8.12 (nft) -> 1.8.13 (nft), then dockerd restarted");
      const downgrade = fixOf(result, "iptables-downgrade");
      expect(downgrade.attempt.fixNote).toBe("iptables 1.8.12 (nft) -> 1.8.10 (nft), then dockerd restarted");
      for (const repaired of [upgrade, downgrade]) {
        expect(repaired.verdict.overall, repaired.verdict.fix).toBe("repaired");
        for (const vantage of PUBLISHED) expect(repaired.verdict.vantages[vantage], vantage).toBe("repaired");
        expectEvery(
          repaired.attempt.userActions.filter((a) => a.when === "after fix"),
          (a) => a.ok,
        );
        // the repaired dockerd still runs confined: the fix did not take the profile away
        expect(step(repaired.attempt.steps, `after fix: ${CONFIRM}`)?.stdout.trim()).toMatch(CONFINED);
      }
      const restart = fixOf(result, "restart-dockerd");
      expect(restart.verdict.overall).toBe("still-broken");
      expect(restart.attempt.fixNote).toMatch(/the engine refused to come back.*exit status 111/);
    });
  });

  describe("1.8.13 under the same profile (the control)", () => {
    it("dockerd restarts confined, the user's actions and every port work, and no call was refused", () => {
      const result = cell("1.8.13");
      expect(result.status).toBe("works");
      expect(baselineStep(result, `${UNDER}: ${CONFIRM}`)?.stdout.trim()).toMatch(CONFINED);
      expectEvery(result.baseline?.userActions, (a) => a.ok, "user actions");
      expectEvery(
        result.baseline?.probes.filter((p) => PUBLISHED.includes(p.vantage)),
        (p) => p.pass,
      );
      expect(refusedCalls(result)).toEqual([]);
      expect(result.baseline?.trace?.silentRefusals).toBe(0);
      expect(fixOf(result, "restart-dockerd").verdict.overall).toBe("ok");
    });
  });

  it("leaves no libvirt domain, network or volume behind (checked on disk: libvirtd may be stopped by now)", async () => {
    expect(await libvirtLeftoversOnDisk()).toEqual([]);
  });
});
