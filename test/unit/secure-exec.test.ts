import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../../scenarios/index.js";
import { CONDITIONS } from "../../scenarios/secure-exec.js";
import { SECURE_EXEC_GROUP } from "../../scenarios/lib/secure-exec-condition.js";
import { analyseTrace } from "../../src/assertions/attribution.js";
import { matchErrors } from "../../src/assertions/error-matchers.js";
import { parseTrace } from "../../src/assertions/trace.js";
import type { IptablesBuild } from "../../src/config/schema.js";
import { TRACE } from "../../src/contract/host-contract.js";
import { downgradeTarget } from "../../src/fixes/iptables-downgrade.js";
import { upgradeTarget } from "../../src/fixes/iptables-upgrade.js";

/** One trace line as the shim writes it. */
const traceLine = (at: number, exitCode: number, tool: string, args: string[], stderr = "") =>
  [
    (at / 1000).toFixed(6),
    ((at + 3) / 1000).toFixed(6),
    exitCode,
    "dockerd",
    "/opt/fwcompat/iptables/1.8.12/bin-nft",
    tool,
    args.map((a) => `${a}${TRACE.argEnd}`).join(""),
    stderr,
  ].join(TRACE.separator);

// dockerd's first calls at start on the iptables backend when every one is refused (the order 29.7.2's iptabler makes them)
const refusedStart = [
  traceLine(1000, 111, "iptables", ["--wait", "-t", "nat", "-n", "-L", "DOCKER"]),
  traceLine(1010, 111, "iptables", ["--wait", "-t", "nat", "-N", "DOCKER"]),
].join("\n");

describe("a refused iptables call in the trace (exit 111, no output)", () => {
  it("is counted, and the explanation names the exit status and the refusal instead of an empty quote", () => {
    const a = analyseTrace(parseTrace(refusedStart), {});
    expect(a.silentRefusals).toBe(2);
    expect(a.failedCalls).toHaveLength(1);
    expect(a.failedCalls[0]).toMatchObject({ call: "--wait -t nat -N DOCKER", exitCode: 111 });
    expect(a.failedCalls[0]?.stderr).toBeUndefined();
    expect(a.explanation).toBe(
      "2 iptables call(s) by dockerd exited 111 with no output: iptables refused to run (libxtables' check for a secure exec, AT_SECURE, in 1.8.12) (first: iptables --wait -t nat -n -L DOCKER); " +
        "1 iptables call(s) by dockerd failed during dockerd's own work (first: exit 111, no output)",
    );
  });

  it("checks refused on the nftables backend are named too, though none costs a rule", () => {
    const checks = [
      traceLine(1000, 111, "iptables", ["--wait", "-t", "filter", "-C", "FORWARD", "-j", "DOCKER-FORWARD"]),
      traceLine(1005, 111, "ip6tables", ["--wait", "-t", "filter", "-C", "FORWARD", "-j", "DOCKER-FORWARD"]),
    ].join("\n");
    const a = analyseTrace(parseTrace(checks), {});
    expect(a.silentRefusals).toBe(2);
    expect(a.failedCalls).toEqual([]);
    expect(a.explanation).toMatch(/^2 iptables call\(s\) by dockerd exited 111 with no output: /);
  });

  it("an exit 111 that says something, or another silent exit, is not that refusal", () => {
    const other = [
      traceLine(1000, 111, "iptables", ["--wait", "-t", "nat", "-N", "DOCKER"], "something else"),
      traceLine(1010, 4, "iptables", ["--wait", "-t", "nat", "-N", "DOCKER"]),
    ].join("\n");
    const a = analyseTrace(parseTrace(other), {});
    expect(a.silentRefusals).toBe(0);
    expect(a.failedCalls.map((f) => f.exitCode)).toEqual([111, 4]);
    expect(a.explanation).toContain('(first: "something else")');
  });
});

describe("dockerd's words for it", () => {
  it("its refusal to start is matched as the exit-111 signature, not as another iptables failure", () => {
    const log =
      'failed to start daemon: Error initializing network controller: error obtaining controller instance: failed to register "bridge" driver: failed to create NAT chain DOCKER: iptables failed: iptables --wait -t nat -N DOCKER:  (exit status 111)';
    expect(matchErrors("under the condition: restart dockerd", log)).toEqual([
      { step: "under the condition: restart dockerd", signature: "iptables-exit-111", text: log },
    ]);
    expect(matchErrors("x", "iptables failed: iptables --wait -t nat -N DOCKER: (exit status 1)")[0]?.signature).toBe(
      "iptables-failed",
    );
  });
});

const build = (name: string, kind: "git" | "debian" | "tarball"): IptablesBuild => ({
  name,
  version: name,
  source:
    kind === "debian"
      ? { kind, suite: "sid", version: name }
      : kind === "git"
        ? { kind, repository: "iptables-upstream.bundle", ref: `v${name}`, commit: "0".repeat(40) }
        : { kind, file: `iptables-${name}.tar.xz`, sha256: "0".repeat(64), urls: [] },
  alternatives: [],
});
const git1810 = build("1.8.10", "git");
const tar1811 = build("1.8.11", "tarball");
const deb18112 = build("1.8.11-2", "debian");
const git1812 = build("1.8.12", "git");
const git1813 = build("1.8.13", "git");
const deb18131 = build("1.8.13-1", "debian");
const defaultBuilds = [git1810, tar1811, deb18112, git1812, git1813, deb18131];

describe("the fixes' targets from 1.8.12, over the default matrix's builds", () => {
  it("iptables-upgrade takes 1.8.13 from the same kind of source (git), not Debian's 1.8.13-1", () => {
    expect(upgradeTarget(defaultBuilds, git1812)?.name).toBe("1.8.13");
    expect(upgradeTarget(defaultBuilds, git1810)?.name).toBe("1.8.13");
  });

  it("the cells upgraded before keep their targets: a Debian package to Debian's, a tarball (no newer tarball) to the newest", () => {
    expect(upgradeTarget(defaultBuilds, deb18112)?.name).toBe("1.8.13-1");
    expect(upgradeTarget(defaultBuilds, tar1811)?.name).toBe("1.8.13-1");
    expect(upgradeTarget(defaultBuilds, git1813)?.name).toBe("1.8.13-1");
    expect(upgradeTarget([git1812, deb18131], git1812)?.name).toBe("1.8.13-1");
  });

  it("iptables-downgrade goes below 1.8.11, as for the -C bug: 1.8.10, which predates the refusal too", () => {
    expect(downgradeTarget(defaultBuilds, git1812)?.name).toBe("1.8.10");
  });
});

describe("the secure-exec scenario's conditions", () => {
  const scenario = SCENARIOS.get("secure-exec");

  it("is registered with one variant per condition, its default the stand-in every lane can run", () => {
    expect(scenario?.variants).toEqual(Object.keys(CONDITIONS));
    expect(scenario?.defaultVariant).toBe("setgid-stand-in");
  });

  it("the stand-in is labelled one, in its flag and its words", () => {
    const standIn = CONDITIONS["setgid-stand-in"];
    expect(standIn?.labelledStandIn).toBe(true);
    expect(standIn?.description).toMatch(/^STAND-IN, not the field case: /);
    expect(standIn?.lanes).toContain("dind");
  });

  it("makes each build's binary set-group-id to a group of its own (set-group-id root would change nothing for root)", () => {
    const script = CONDITIONS["setgid-stand-in"]?.script ?? "";
    expect(SECURE_EXEC_GROUP).not.toBe("root");
    expect(script).toContain(`group=${SECURE_EXEC_GROUP}`);
    expect(script).toContain('chgrp "$group" "$multi" && chmod g+s "$multi"');
    expect(script).toMatch(/\/opt\/fwcompat\/iptables\/\*\/bin-\*\/iptables/);
  });

  it("refuses a lane its condition does not support, before touching the host", async () => {
    const commands: string[] = [];
    const host = {
      provider: "vagrant" as const,
      sh: async (script: string) => (commands.push(script), { exitCode: 0, stdout: "", stderr: "", ms: 1 }),
    };
    const only = { ...CONDITIONS };
    CONDITIONS["dind-only"] = {
      ...(CONDITIONS["setgid-stand-in"] as NonNullable<(typeof CONDITIONS)[string]>),
      lanes: ["dind"],
    };
    try {
      const ctx = { host, steps: [], errors: [], targets: [], userActions: [] } as unknown as Parameters<
        NonNullable<typeof scenario>["setUp"]
      >[0];
      await expect(scenario?.setUp(ctx, "dind-only")).rejects.toThrow(
        "secure-exec:dind-only cannot be put in place on a vagrant host (lanes: dind)",
      );
      await expect(scenario?.setUp(ctx, "no-such")).rejects.toThrow("secure-exec has no variant 'no-such'");
      expect(commands).toEqual([]);
    } finally {
      delete CONDITIONS["dind-only"];
      expect(Object.keys(CONDITIONS)).toEqual(Object.keys(only));
    }
  });
});
