import {
  RESULT_SCHEMA_VERSION,
  type AttemptResult,
  type CellResult,
  type ProbeRecord,
} from "../../src/results/schema.js";

/** Small hand-made results for pure report logic; real results are exercised by the integration tests. */
export function probe(vantage: ProbeRecord["vantage"], pass: boolean, detail = ""): ProbeRecord {
  const blocked = vantage === "cross-network";
  return {
    vantage,
    target: `fwc-net1/n1c1 :8081`,
    expect: blocked ? "blocked" : "reachable",
    outcome: pass !== blocked ? "ok" : "timeout",
    pass,
    ms: 12,
    detail,
  };
}

export function attempt(name: string, probes: ProbeRecord[], extra: Partial<AttemptResult> = {}): AttemptResult {
  return {
    name,
    status: "done",
    probes,
    userActions: [],
    errors: [],
    rules: {},
    missingRules: [],
    targets: [],
    dockerdLog: "",
    steps: [],
    timingsMs: {},
    ...extra,
  };
}

export function cell(
  iptables: string,
  status: CellResult["status"],
  probes: ProbeRecord[],
  extra: Partial<CellResult> = {},
): CellResult {
  const id = `curl-timeout__dind__docker-28.5.2__${iptables}-nft__proxy-off__3-bridges`;
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    runId: "test",
    cell: {
      id,
      provider: "dind",
      engine: "docker-28.5.2",
      iptables,
      backend: "nft",
      daemon: "proxy-off",
      topology: "3-bridges",
      scenario: "curl-timeout",
      fixes: [],
    },
    status,
    brokenVantages: [...new Set(probes.filter((p) => !p.pass).map((p) => p.vantage))],
    baseline: attempt("baseline", probes),
    fixes: [],
    startedAt: "2026-11-23T00:00:00.000Z",
    durationMs: 1000,
    ...extra,
  };
}
