import { describe, expect, it } from "vitest";
import { fixLasted, judgeAfterEvent, judgeFix } from "../../src/results/verdicts.js";
import type { AttemptResult, ProbeRecord } from "../../src/results/schema.js";
import { attempt } from "../support/fake-results.js";

const probe = (vantage: ProbeRecord["vantage"], target: string, pass: boolean): ProbeRecord => ({
  vantage,
  target,
  expect: "reachable",
  outcome: pass ? "ok" : "timeout",
  pass,
  ms: 5,
  detail: "",
});
const crossNode = (pass: boolean) => [
  probe("cross-node", "node-a/bridge/n0c1 -> node-b/node-b-web 10.79.0.2:80", pass),
  probe("cross-node", "node-a/bridge/n0c1 -> node-b/node-b-web (ping)", pass),
  probe("to-other-node", "node-a/bridge/n0c1 -> node-b host :7000", pass),
];
const local = [probe("localhost", "bridge/n0c1 :8080", true)];
const EVENT = "kernel-parameter reload (sysctl --system)";

const baseline = attempt("baseline", [...local, ...crossNode(false)]);
const fixed = (afterReload: boolean | undefined): AttemptResult =>
  attempt("ip-forward-on", [...local, ...crossNode(true)], {
    ...(afterReload === undefined
      ? {}
      : { afterEvent: { event: EVENT, probes: [...local, ...crossNode(afterReload)], steps: [] } }),
  });

describe("a fix judged again after the later event", () => {
  it("a fix that does not survive the reload: repaired, then still-broken after it", () => {
    const after = fixed(false);
    const verdict = { ...judgeFix(baseline, after), afterEvent: judgeAfterEvent(baseline, after) };
    expect(verdict.overall).toBe("repaired");
    expect(verdict.afterEvent).toMatchObject({
      event: EVENT,
      overall: "still-broken",
      vantages: { localhost: "ok", "cross-node": "still-broken", "to-other-node": "still-broken" },
    });
    expect(verdict.afterEvent?.counts?.["cross-node"]).toEqual({ broken: 2, repaired: 0, regressed: 0, total: 2 });
    expect(fixLasted(verdict)).toBe(false);
  });

  it("a fix that lasts reads repaired after the reload too", () => {
    const after = fixed(true);
    const verdict = { ...judgeFix(baseline, after), afterEvent: judgeAfterEvent(baseline, after) };
    expect(verdict.afterEvent?.overall).toBe("repaired");
    expect(fixLasted(verdict)).toBe(true);
  });

  it("node-local traffic lost after the reload reads regressed", () => {
    const after = attempt("x", [...local, ...crossNode(true)], {
      afterEvent: {
        event: EVENT,
        probes: [probe("localhost", "bridge/n0c1 :8080", false), ...crossNode(true)],
        steps: [],
      },
    });
    expect(judgeAfterEvent(baseline, after)?.overall).toBe("regressed");
  });

  it("no later event: no second verdict", () => {
    expect(judgeAfterEvent(baseline, fixed(undefined))).toBeUndefined();
    expect(fixLasted({ overall: "repaired" })).toBeUndefined();
  });
});

describe("the verdict in a line", () => {
  it("says what the fix did, then what was left after the later event", async () => {
    const { fixLine } = await import("../../src/results/markdown.js");
    const after = fixed(false);
    const verdict = { ...judgeFix(baseline, after), afterEvent: judgeAfterEvent(baseline, after) };
    expect(fixLine(verdict)).toBe(`ip-forward-on: repaired, then still-broken after the ${EVENT}`);
    expect(fixLine(judgeFix(baseline, after))).toBe("ip-forward-on: repaired");
  });
});
