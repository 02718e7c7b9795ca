import type { AttemptResult, FixVerdict, ProbeRecord } from "./schema.js";

/** Vantages where at least one probe did not meet its expectation. */
export function brokenVantages(probes: readonly ProbeRecord[]): string[] {
  return [...new Set(probes.filter((p) => !p.pass).map((p) => p.vantage))];
}

/** Per vantage probed: did every probe there meet its expectation. */
export function passByVantage(probes: readonly ProbeRecord[]): Map<string, boolean> {
  const pass = new Map<string, boolean>();
  for (const p of probes) pass.set(p.vantage, (pass.get(p.vantage) ?? true) && p.pass);
  return pass;
}

/**
 * Judges a fix by traffic only: per vantage, compare the broken baseline with the probes
 * taken after the fix. A command exiting 0 proves nothing here.
 */
export function judgeFix(baseline: AttemptResult, after: AttemptResult): FixVerdict {
  if (after.status !== "done") return { fix: after.name, vantages: {}, overall: after.status === "not-applicable" ? "not-applicable" : "error" };
  const vantages: FixVerdict["vantages"] = {};
  const names = new Set([...baseline.probes, ...after.probes].map((p) => p.vantage));
  for (const vantage of names) {
    const wasOk = baseline.probes.filter((p) => p.vantage === vantage).every((p) => p.pass);
    const afterProbes = after.probes.filter((p) => p.vantage === vantage);
    const isOk = afterProbes.length > 0 && afterProbes.every((p) => p.pass);
    vantages[vantage] = wasOk ? (isOk ? "ok" : "regressed") : isOk ? "repaired" : "still-broken";
  }
  const values = Object.values(vantages);
  const overall = values.includes("regressed")
    ? "regressed"
    : values.includes("still-broken")
      ? "still-broken"
      : values.includes("repaired")
        ? "repaired"
        : "ok";
  return { fix: after.name, vantages, overall };
}

/**
 * Traffic that had to be blocked got an answer: a firewall policy bypassed (the probe names
 * the policy as its guard, e.g. "ufw denies 8081/tcp") or Docker's own isolation broken.
 * Each is a security finding, spelled out.
 */
export function securityFindings(probes: readonly ProbeRecord[]): string[] {
  return probes
    .filter((p) => p.expect === "blocked" && p.outcome === "ok")
    .map((p) =>
      p.guard
        ? `SECURITY: policy bypassed: ${p.target} answered from ${p.vantage} although ${p.guard}`
        : `SECURITY: isolation broken: ${p.target} answered from ${p.vantage} although it must be blocked`,
    );
}
