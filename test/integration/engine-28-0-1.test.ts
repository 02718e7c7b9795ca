import { beforeAll, describe, expect, it } from "vitest";
import { readArchiveFacts } from "../../src/harness/images/moby-source.js";
import { diffAgainstGolden } from "../../src/report/goldens.js";
import type { CellResult } from "../../src/results/schema.js";
import { leftovers, sourceFileForTests } from "../support/cli.js";
import { runMatrixForTest, type MatrixRun } from "../support/matrix-run.js";
import { expectEvery } from "../support/quantifiers.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";
import { warmedImages } from "../support/warmed.js";

await warmedImages("test/fixtures/matrices/docker28-0-1.yaml");

// Docker 28.0.1, the curl-timeout field report's own engine, compiled in GOPATH mode from the
// v28.0.1 archive in the local source directory (by the integration tier's global setup, about
// two minutes cold on 2 cores, cached after), around Debian sid's containerd, runc and docker-cli;
// real iptables builds, real traffic.
const ARCHIVE = "moby-v28.0.1.tar.xz";
let run: MatrixRun;
let commit = "";

beforeAll(async () => {
  const { sources, path: archive } = await sourceFileForTests(ARCHIVE);
  // the commit the archive was made from, read from the archive itself (git get-tar-commit-id)
  const facts = await readArchiveFacts(archive);
  if (!facts.ok) throw new Error(facts.reason);
  expect(facts.tree).toEqual({ layout: "gopath", dockerProxy: true });
  commit = facts.commit;
  run = await runMatrixForTest("test/fixtures/matrices/docker28-0-1.yaml", {
    timeoutMs: WARM_RUN_MS,
    env: { FWCOMPAT_SOURCE_DIR: sources },
  });
}, WARM_RUN_TEST_MS);

const BUGGY = "curl-timeout__dind__docker-28.0.1__1.8.11-nft__proxy-off__3-bridges";
const FIXED = "curl-timeout__dind__docker-28.0.1__1.8.11-2-nft__proxy-off__3-bridges";
const probesAt = (result: CellResult, vantage: string) =>
  (result.baseline?.probes ?? []).filter((p) => p.vantage === vantage);

describe("Docker 28.0.1 built from source (GOPATH layout), on real hosts", () => {
  it("finishes with exit 0, a result per cell, and nothing of the run left on the engine", async () => {
    expect(run.exitCode, run.output.slice(-2000)).toBe(0);
    expect(run.cells.size).toBe(2);
    expect(await leftovers(run.runId)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it("runs the dockerd compiled from the archive's commit, and records tag, commit and Go", () => {
    expect(commit.slice(0, 7)).toBe("bbd0a17");
    for (const id of [BUGGY, FIXED]) {
      const evidence = run.cell(id).baseline?.evidence;
      expect(evidence?.dockerdVersion).toBe(`Docker version 28.0.1, build ${commit.slice(0, 7)}`);
      expect(evidence?.engineBuild).toEqual({ tag: "v28.0.1", commit, go: expect.stringMatching(/^go1\.26\.\d+$/) });
    }
  });

  it("upstream 1.8.11, userland-proxy off: the seed's cell reproduces, published ports time out from outside and from the host", () => {
    const result = run.cell(BUGGY);
    expect(result.status).toBe("reproduced");
    expect(result.baseline?.evidence?.checkProbe).toBe("buggy");
    for (const vantage of ["external", "localhost"]) {
      const timedOut = probesAt(result, vantage).filter((p) => p.outcome === "timeout" && !p.pass);
      expect(timedOut.length, `${vantage} probes that timed out`).toBeGreaterThan(0);
      expect(result.brokenVantages).toContain(vantage);
    }
    expectEvery(probesAt(result, "host-ip"), (p) => p.pass, "host-ip probes");
    // isolation between the bridges still holds, as it does on 28.5.2
    expectEvery(probesAt(result, "cross-network"), (p) => p.pass, "cross-network probes");
    const skipped = result.baseline?.trace?.skippedRules ?? [];
    expect(
      skipped.filter((s) => s.rule.startsWith("filter DOCKER-BRIDGE -o br-")).length,
      "DOCKER-BRIDGE rules the wrong -C answers made dockerd skip",
    ).toBeGreaterThan(0);
  });

  it("Debian's 1.8.11-2: the same cell works, every probe as expected and no rule missing", () => {
    const result = run.cell(FIXED);
    expect(result.status).toBe("works");
    expect(result.baseline?.evidence?.checkProbe).toBe("correct");
    expectEvery(result.baseline?.probes, (p) => p.pass, "probes");
    for (const vantage of ["localhost", "host-ip", "external"])
      expectEvery(probesAt(result, vantage), (p) => p.outcome === "ok", `${vantage} probes`);
    expect(result.baseline?.missingRules).toEqual([]);
  });

  it("28.0.1 writes its rules the way its source does: DOCKER-USER's own RETURN, direct-access drops per published port", async () => {
    const result = run.cell(FIXED);
    const final = result.baseline?.rules.final ?? "";
    expect(final).toMatch(/^-A DOCKER-USER -j RETURN$/m);
    expectEvery(
      result.baseline?.targets.filter((t) => t.hostPort !== undefined),
      (t) => final.includes(`-A PREROUTING -d ${t.ip}/32 ! -i ${t.bridge} -p tcp -m tcp --dport 80 -j DROP`),
      "published containers with a per-port direct-access drop",
    );
    const diff = await diffAgainstGolden(result);
    expect(diff?.golden).toBe("28.0-28.1/nft/curl-timeout");
    expect({ missing: diff?.missing, extra: diff?.extra }).toEqual({ missing: [], extra: [] });
  });
});
