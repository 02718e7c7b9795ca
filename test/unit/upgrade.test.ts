import { describe, expect, it } from "vitest";
import { evaluateGate } from "../../src/report/gate.js";
import { combineRepeats } from "../../src/results/repeats.js";
import { RESULT_SCHEMA_VERSION, type CellResult } from "../../src/results/schema.js";
import { readCellResult } from "../../src/results/upgrade.js";
import { attempt, cell, probe } from "../support/fake-results.js";

const RUN_ERROR =
  "docker: Error response from daemon: driver failed programming external connectivity on endpoint late1: iptables: No chain/target/match by that name.";
const step = (name: string, exitCode: number, stderr = "") => ({
  name,
  startedAtMs: 0,
  command: "docker …",
  exitCode,
  stdout: "",
  stderr,
  ms: 100,
});

/** A result as fwcompat wrote it with schema version 1: no user actions, a fix judged by traffic alone. */
function versionOne(): unknown {
  const current = cell("1.8.11-2", "works", [probe("external", true)], {
    baseline: attempt("baseline", [probe("external", true)], {
      steps: [
        step("after flush: docker run -p 8084:80", 125, RUN_ERROR),
        step("after flush: docker network create", 0),
      ],
    }),
    fixes: [
      {
        verdict: { fix: "recreate-docker-chains", vantages: { external: "ok" }, overall: "ok", restoredRules: [] },
        attempt: attempt("recreate-docker-chains", [probe("external", true)], {
          steps: [
            step("after flush: docker run -p 8084:80", 125, RUN_ERROR),
            step("after fix: docker run -p 8084:80", 125, RUN_ERROR),
            step("after fix: docker network create", 0),
          ],
        }),
      },
    ],
  });
  const json = JSON.parse(JSON.stringify({ ...current, schemaVersion: 1 })) as {
    baseline: Record<string, unknown>;
    fixes: Array<{ attempt: Record<string, unknown> }>;
  };
  delete json.baseline.userActions;
  for (const f of json.fixes) delete f.attempt.userActions;
  return json;
}

describe("results of schema version 1 are read and judged again", () => {
  it("the user's actions come back from the steps, and a works cell whose docker run -p failed is reproduced", () => {
    const read = readCellResult(versionOne());
    if (!read.success) throw read.error;
    expect(read.data.schemaVersion).toBe(RESULT_SCHEMA_VERSION);
    expect(read.data.baseline?.userActions).toEqual([
      { action: "docker run -p 8084:80", when: "after flush", ok: false, exitCode: 125, error: RUN_ERROR },
      { action: "docker network create", when: "after flush", ok: true, exitCode: 0, error: "" },
    ]);
    expect(read.data.status).toBe("reproduced");
    expect(read.data.brokenVantages).toEqual(["user-action"]);
  });

  it("a fix that read ok while the retried docker run -p failed is still-broken; the rules it restored are kept", () => {
    const read = readCellResult(versionOne());
    if (!read.success) throw read.error;
    const verdict = read.data.fixes[0]?.verdict;
    expect(verdict?.overall).toBe("still-broken");
    expect(verdict?.failedActions).toEqual([{ action: "docker run -p 8084:80", exitCode: 125, error: RUN_ERROR }]);
    expect(verdict?.restoredRules).toEqual([]);
  });

  it("an unknown version is not read", () => {
    expect(readCellResult({ ...(versionOne() as object), schemaVersion: 3 }).success).toBe(false);
  });
});

describe("repeats keep every verdict with the probe orders that gave it", () => {
  const ordered = (result: CellResult, vantages: string) => ({
    ...result,
    baseline: result.baseline && {
      ...result.baseline,
      probeOrder: { seed: "s:c", repeat: 0, vantages: vantages.split(",") as never },
    },
  });

  it("agreeing repeats in two orders: one outcome listing both orders", () => {
    const a = ordered(
      cell("1.8.11", "reproduced", [probe("external", false), probe("host-ip", true)]),
      "localhost,host-ip,external",
    );
    const b = ordered(
      cell("1.8.11", "reproduced", [probe("external", false), probe("host-ip", true)]),
      "host-ip,external,localhost",
    );
    const combined = combineRepeats([a, b]);
    expect(combined.status).toBe("reproduced");
    expect(combined.repeats?.outcomes.map((o) => o.probeOrders)).toEqual([
      ["localhost,host-ip,external", "host-ip,external,localhost"],
    ]);
  });

  it("a verdict that depends on the order is flaky, each outcome with its orders", () => {
    const a = ordered(cell("1.8.11", "reproduced", [probe("host-ip", false)]), "localhost,host-ip");
    const b = ordered(cell("1.8.11", "works", [probe("host-ip", true)]), "host-ip,localhost");
    const combined = combineRepeats([a, b]);
    expect(combined.status).toBe("flaky");
    expect(combined.repeats?.outcomes.map((o) => [o.verdict.split(";")[0], o.probeOrders])).toEqual([
      ["status=reproduced", ["localhost,host-ip"]],
      ["status=works", ["host-ip,localhost"]],
    ]);
  });
});

describe("the gate requires a full repair or accepts the verdicts it lists", () => {
  const partial = cell("1.8.11", "reproduced", [probe("external", false)], {
    fixes: [
      {
        verdict: {
          fix: "restart-dockerd",
          vantages: { external: "still-broken" },
          counts: { external: { broken: 4, repaired: 1, regressed: 0, total: 4 } },
          overall: "partial",
        },
        attempt: attempt("restart-dockerd", [probe("external", false)]),
      },
    ],
  });

  it("repaired required: a partial fix is a regression with its counts", () => {
    const outcome = evaluateGate(
      [{ name: "restart repairs", match: { iptables: "1.8.11" }, fixes: { "restart-dockerd": "repaired" } }],
      [partial],
    );
    expect(outcome.regressions).toEqual([
      `restart repairs: ${partial.cell.id}: fix restart-dockerd expected repaired, got partial (external still-broken; external repaired 1/4)`,
    ]);
  });

  it("[repaired, partial] accepted: the same fix passes", () => {
    const outcome = evaluateGate(
      [{ name: "restart helps", match: { iptables: "1.8.11" }, fixes: { "restart-dockerd": ["repaired", "partial"] } }],
      [partial],
    );
    expect(outcome.regressions).toEqual([]);
  });
});
