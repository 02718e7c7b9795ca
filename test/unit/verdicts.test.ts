import { describe, expect, it } from "vitest";
import { baselineStatus, brokenVantages, judgeFix } from "../../src/results/verdicts.js";
import type { ProbeRecord, UserActionRecord } from "../../src/results/schema.js";
import { attempt, probe as fakeProbe } from "../support/fake-results.js";

const probe = (vantage: ProbeRecord["vantage"], pass: boolean, target = "t"): ProbeRecord => ({
  ...fakeProbe(vantage, pass),
  target,
});
const RUN_ERROR =
  "docker: Error response from daemon: driver failed programming external connectivity on endpoint late1: iptables: No chain/target/match by that name.";
const action = (when: string, ok: boolean, what = "docker run -p 8084:80"): UserActionRecord => ({
  action: what,
  when,
  ok,
  exitCode: ok ? 0 : 125,
  error: ok ? "" : RUN_ERROR,
});
/** four published targets, one per network */
const four = (vantage: ProbeRecord["vantage"], passing: number) =>
  ["a", "b", "c", "d"].map((t, i) => probe(vantage, i < passing, t));

describe("fix verdicts come from traffic per vantage", () => {
  const baseline = attempt("baseline", [
    probe("localhost", false),
    probe("external", false),
    probe("host-ip", true),
    probe("cross-network", true),
  ]);

  it("names the broken vantages of a baseline", () => {
    expect(brokenVantages(baseline.probes)).toEqual(["localhost", "external"]);
  });

  it("repaired only where every probe now passes; one vantage repaired and another not is partial", () => {
    const partial = judgeFix(
      baseline,
      attempt("userland-proxy-on", [
        probe("localhost", true),
        probe("external", false),
        probe("host-ip", true),
        probe("cross-network", true),
      ]),
    );
    expect(partial.vantages).toEqual({
      localhost: "repaired",
      external: "still-broken",
      "host-ip": "ok",
      "cross-network": "ok",
    });
    expect(partial.overall).toBe("partial");
    const full = judgeFix(
      baseline,
      attempt("iptables-upgrade", [
        probe("localhost", true),
        probe("external", true),
        probe("host-ip", true),
        probe("cross-network", true),
      ]),
    );
    expect(full.overall).toBe("repaired");
    const none = judgeFix(
      baseline,
      attempt("x", [
        probe("localhost", false),
        probe("external", false),
        probe("host-ip", true),
        probe("cross-network", true),
      ]),
    );
    expect(none.overall).toBe("still-broken");
  });

  it("a fix that breaks a working vantage regressed, even if it repaired another", () => {
    const verdict = judgeFix(
      baseline,
      attempt("x", [
        probe("localhost", true),
        probe("external", true),
        probe("host-ip", true),
        probe("cross-network", false),
      ]),
    );
    expect(verdict.vantages["cross-network"]).toBe("regressed");
    expect(verdict.overall).toBe("regressed");
  });

  it("a vantage with no probes after the fix is not counted as working", () => {
    expect(judgeFix(baseline, attempt("x", [probe("host-ip", true)])).vantages.external).toBe("still-broken");
  });

  it("not-applicable and failed attempts are never verdicts on traffic", () => {
    expect(judgeFix(baseline, attempt("x", [], { status: "not-applicable" })).overall).toBe("not-applicable");
    expect(judgeFix(baseline, attempt("x", [], { status: "error" })).overall).toBe("error");
  });
});

describe("partial repairs carry their counts", () => {
  it("external repaired 1 of 4 broken targets is partial, with the counts per vantage", () => {
    const before = attempt("baseline", [...four("external", 0), ...four("localhost", 1), ...four("host-ip", 4)]);
    const after = attempt("restart-dockerd", [...four("external", 1), ...four("localhost", 1), ...four("host-ip", 4)]);
    const verdict = judgeFix(before, after);
    expect(verdict.overall).toBe("partial");
    expect(verdict.vantages).toEqual({ external: "still-broken", localhost: "still-broken", "host-ip": "ok" });
    expect(verdict.counts?.external).toEqual({ broken: 4, repaired: 1, regressed: 0, total: 4 });
    expect(verdict.counts?.localhost).toEqual({ broken: 3, repaired: 0, regressed: 0, total: 4 });
  });

  it("a target only the fix attempt has (the user's new container) counts only if it fails", () => {
    const before = attempt("baseline", four("external", 4));
    const reachable = judgeFix(before, attempt("x", [...four("external", 4), probe("external", true, "late1")]));
    expect(reachable.counts?.external).toEqual({ broken: 0, repaired: 0, regressed: 0, total: 5 });
    expect(reachable.overall).toBe("ok");
    const unreachable = judgeFix(before, attempt("x", [...four("external", 4), probe("external", false, "late1")]));
    expect(unreachable.vantages.external).toBe("still-broken");
  });

  it("cross-network targets are matched without the destination address, which a restart may change", () => {
    const before = attempt("baseline", [probe("cross-network", false, "fwc-net1/n1c1 -> fwc-net2/n2c1 10.78.1.2:80")]);
    const after = attempt("x", [probe("cross-network", true, "fwc-net1/n1c1 -> fwc-net2/n2c1 10.78.1.3:80")]);
    expect(judgeFix(before, after).counts?.["cross-network"]).toEqual({
      broken: 1,
      repaired: 1,
      regressed: 0,
      total: 1,
    });
  });
});

describe("the user's own actions count", () => {
  const brokenRun = attempt("baseline", four("external", 4), {
    userActions: [action("after flush", false), action("after flush", true, "docker network create")],
  });

  it("a baseline whose docker run -p fails is reproduced even though the old containers' traffic flows", () => {
    const judged = baselineStatus(brokenRun);
    expect(judged.status).toBe("reproduced");
    expect(judged.brokenVantages).toEqual(["user-action"]);
    expect(judged.reason).toBe(`docker run -p 8084:80 failed (exit 125): ${RUN_ERROR}`);
  });

  it("a fix that restores traffic while the retried docker run -p still fails is still-broken, naming the action and its error", () => {
    const after = attempt("recreate-docker-chains", four("external", 4), {
      userActions: [
        action("after flush", false),
        action("after flush", true, "docker network create"),
        action("after fix", false),
        action("after fix", true, "docker network create"),
      ],
    });
    const verdict = judgeFix(brokenRun, after);
    expect(verdict.overall).toBe("still-broken");
    expect(verdict.vantages["user-action"]).toBe("still-broken");
    expect(verdict.failedActions).toEqual([{ action: "docker run -p 8084:80", exitCode: 125, error: RUN_ERROR }]);
    expect(verdict.reason).toMatch(/^docker run -p 8084:80 failed \(exit 125\): docker: Error response from daemon/);
  });

  it("repaired when traffic flows and the retried actions succeed: only the retry after the fix counts", () => {
    const after = attempt("restart-dockerd", four("external", 4), {
      userActions: [
        action("after flush", false),
        action("after fix", true),
        action("after fix", true, "docker network create"),
      ],
    });
    const verdict = judgeFix(brokenRun, after);
    expect(verdict.vantages["user-action"]).toBe("repaired");
    expect(verdict.overall).toBe("repaired");
    expect(verdict.failedActions).toBeUndefined();
  });

  it("a fix that makes a working action fail regressed", () => {
    const fine = attempt("baseline", four("external", 4), { userActions: [action("forwarding off", true)] });
    expect(
      judgeFix(fine, attempt("x", four("external", 4), { userActions: [action("after fix", false)] })).overall,
    ).toBe("regressed");
  });
});

describe("no probe, no verdict", () => {
  it("a baseline that probed nothing is an error, never works", () => {
    expect(baselineStatus(attempt("baseline", []))).toEqual({
      status: "error",
      reason: "no probe ran",
      brokenVantages: [],
    });
  });

  it("a fix attempt that probed nothing is an error, never repaired", () => {
    const verdict = judgeFix(attempt("baseline", [probe("external", false)]), attempt("x", []));
    expect(verdict.overall).toBe("error");
    expect(verdict.reason).toBe("no probe ran");
  });
});
