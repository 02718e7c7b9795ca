import {
  USER_ACTION,
  type AttemptResult,
  type CellResult,
  type FixVerdict,
  type ProbeRecord,
  type UserActionRecord,
  type VantageCount,
} from "./schema.js";

export const NO_PROBE = "no probe ran";

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
 * The last try of each of the user's actions (by what the user typed, port aside): in a fix
 * attempt the retry after the fix comes last, so it is the one that counts.
 */
export function latestUserActions(attempt: Pick<AttemptResult, "userActions">): UserActionRecord[] {
  const byKind = new Map<string, UserActionRecord>();
  for (const action of attempt.userActions) byKind.set(actionKind(action.action), action);
  return [...byKind.values()];
}

const actionKind = (action: string) => action.replace(/\s\d+:\d+$/, "");

/** Per vantage as passByVantage, plus user-action when the scenario tried the user's actions. */
export function vantageStates(attempt: Pick<AttemptResult, "probes" | "userActions">): Map<string, boolean> {
  const states = passByVantage(attempt.probes);
  const actions = latestUserActions(attempt);
  if (actions.length > 0)
    states.set(
      USER_ACTION,
      actions.every((a) => a.ok),
    );
  return states;
}

export const describeAction = (a: Pick<UserActionRecord, "action" | "exitCode" | "error">) =>
  `${a.action} failed (exit ${a.exitCode})${a.error ? `: ${a.error.split("\n")[0]}` : ""}`;

/** A baseline's status: reproduced when a vantage misbehaved or a user action failed; error when nothing was probed. */
export function baselineStatus(baseline: AttemptResult): Pick<CellResult, "status" | "reason" | "brokenVantages"> {
  if (baseline.status !== "done")
    return { status: "error", reason: baseline.reason ?? "baseline failed", brokenVantages: [] };
  if (baseline.probes.length === 0) return { status: "error", reason: NO_PROBE, brokenVantages: [] };
  const broken = [...vantageStates(baseline)].filter(([, pass]) => !pass).map(([v]) => v);
  const failed = latestUserActions(baseline).filter((a) => !a.ok);
  return {
    status: broken.length > 0 ? "reproduced" : "works",
    reason: failed.length > 0 ? failed.map(describeAction).join("; ") : undefined,
    brokenVantages: broken,
  };
}

/** A probe's target without the destination address cross-network targets carry (a restarted engine, or another lane, may hand it out anew). */
export const targetKey = (p: ProbeRecord) => p.target.replace(/ \d+\.\d+\.\d+\.\d+:\d+$/, "");

/**
 * Target by target: broken = failed in the baseline, repaired = of those, passing after;
 * regressed = passed in the baseline, fails (or is gone) after. A target the baseline never
 * had (the user's new container, whose `docker run` failed there) counts as broken only if
 * it fails after the fix: its absence is the user action's failure, judged on its own.
 */
function countTargets(before: ReadonlyMap<string, boolean>, after: ReadonlyMap<string, boolean>): VantageCount {
  const keys = new Set([...before.keys(), ...after.keys()]);
  const count = { broken: 0, repaired: 0, regressed: 0, total: keys.size };
  for (const key of keys) {
    const was = before.get(key);
    const is = after.get(key) === true;
    if (was === true) {
      if (!is) count.regressed++;
    } else if (was === false || !is) {
      count.broken++;
      if (is) count.repaired++;
    }
  }
  return count;
}

function verdictOfCount(c: VantageCount): FixVerdict["vantages"][string] {
  if (c.regressed > 0) return "regressed";
  if (c.broken === 0) return "ok";
  return c.repaired === c.broken ? "repaired" : "still-broken";
}

const probeMap = (probes: readonly ProbeRecord[], vantage: string) =>
  new Map(probes.filter((p) => p.vantage === vantage).map((p) => [targetKey(p), p.pass]));
const actionMap = (attempt: AttemptResult) =>
  new Map(latestUserActions(attempt).map((a) => [actionKind(a.action), a.ok]));

/**
 * Judges a fix by traffic and by the user's retried actions: per vantage, target by target,
 * the broken baseline against the attempt after the fix. A command exiting 0 proves nothing
 * here; a fix that restores traffic while the user's `docker run -p` still fails is
 * still-broken; one that repairs some targets and not others is partial.
 */
export function judgeFix(baseline: AttemptResult, after: AttemptResult): FixVerdict {
  if (after.status !== "done") {
    return { fix: after.name, vantages: {}, overall: after.status === "not-applicable" ? "not-applicable" : "error" };
  }
  if (after.probes.length === 0) return { fix: after.name, vantages: {}, overall: "error", reason: NO_PROBE };
  const counts: Record<string, VantageCount> = {};
  for (const vantage of new Set([...baseline.probes, ...after.probes].map((p) => p.vantage))) {
    counts[vantage] = countTargets(probeMap(baseline.probes, vantage), probeMap(after.probes, vantage));
  }
  const actionsBefore = actionMap(baseline);
  const actionsAfter = actionMap(after);
  if (actionsBefore.size + actionsAfter.size > 0) counts[USER_ACTION] = countTargets(actionsBefore, actionsAfter);
  const vantages = Object.fromEntries(Object.entries(counts).map(([v, c]) => [v, verdictOfCount(c)]));
  const failedActions = latestUserActions(after)
    .filter((a) => !a.ok)
    .map(({ action, exitCode, error }) => ({ action, exitCode, error }));
  const values = Object.values(vantages);
  const actionVerdict = vantages[USER_ACTION];
  const overall: FixVerdict["overall"] = values.includes("regressed")
    ? "regressed"
    : actionVerdict === "still-broken"
      ? "still-broken"
      : values.every((v) => v === "ok" || v === "repaired")
        ? values.includes("repaired")
          ? "repaired"
          : "ok"
        : Object.values(counts).some((c) => c.repaired > 0)
          ? "partial"
          : "still-broken";
  return {
    fix: after.name,
    vantages,
    counts,
    overall,
    ...(failedActions.length > 0 ? { failedActions, reason: failedActions.map(describeAction).join("; ") } : {}),
  };
}

/**
 * The fix judged again on the probes taken after the scenario's later event (e.g. a
 * kernel-parameter reload), against the same broken baseline: a fix that repaired the host
 * and did not last reads still-broken (or regressed) here, one that lasts reads as before.
 */
export function judgeAfterEvent(
  baseline: AttemptResult,
  after: AttemptResult,
): NonNullable<FixVerdict["afterEvent"]> | undefined {
  if (!after.afterEvent) return undefined;
  const { vantages, counts, overall, reason } = judgeFix(baseline, { ...after, probes: after.afterEvent.probes });
  return {
    event: after.afterEvent.event,
    vantages,
    ...(counts ? { counts } : {}),
    overall,
    ...(reason ? { reason } : {}),
  };
}

/** Whether the fix held after the later event: repaired before it and still after it. */
export const fixLasted = (verdict: Pick<FixVerdict, "overall" | "afterEvent">): boolean | undefined =>
  verdict.afterEvent === undefined ? undefined : verdict.afterEvent.overall === verdict.overall;

/** "external repaired 1/4" for each vantage the baseline had broken, and what regressed. */
export function countsLine(verdict: Pick<FixVerdict, "counts" | "vantages">): string {
  return Object.entries(verdict.counts ?? {})
    .flatMap(([v, c]) => [
      ...(c.broken > 0 ? [`${v} repaired ${c.repaired}/${c.broken}`] : []),
      ...(c.regressed > 0 ? [`${v} regressed ${c.regressed}/${c.total}`] : []),
    ])
    .join(", ");
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
