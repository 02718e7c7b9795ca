import { describe, expect, it } from "vitest";
import { brokenVantages, judgeFix } from "../../src/results/verdicts.js";
import { attempt, probe } from "../support/fake-results.js";

describe("fix verdicts come from traffic per vantage", () => {
  const baseline = attempt("baseline", [probe("localhost", false), probe("external", false), probe("host-ip", true), probe("cross-network", true)]);

  it("names the broken vantages of a baseline", () => {
    expect(brokenVantages(baseline.probes)).toEqual(["localhost", "external"]);
  });

  it("repaired only where every probe now passes; a fix that leaves one vantage broken is still-broken", () => {
    const partial = judgeFix(baseline, attempt("userland-proxy-on", [probe("localhost", true), probe("external", false), probe("host-ip", true), probe("cross-network", true)]));
    expect(partial.vantages).toEqual({ localhost: "repaired", external: "still-broken", "host-ip": "ok", "cross-network": "ok" });
    expect(partial.overall).toBe("still-broken");
    const full = judgeFix(baseline, attempt("iptables-upgrade", [probe("localhost", true), probe("external", true), probe("host-ip", true), probe("cross-network", true)]));
    expect(full.overall).toBe("repaired");
  });

  it("a fix that breaks a working vantage regressed, even if it repaired another", () => {
    const verdict = judgeFix(baseline, attempt("x", [probe("localhost", true), probe("external", true), probe("host-ip", true), probe("cross-network", false)]));
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
