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

export type CellNames = Pick<CellResult["cell"], "engine" | "iptables" | "backend" | "daemon" | "scenario"> &
  Partial<Pick<CellResult["cell"], "provider" | "topology" | "variant">>;

/** A result of any cell of a matrix, its id built from its names as the matrix builds it. */
export function resultOf(
  names: CellNames,
  status: CellResult["status"],
  probes: ProbeRecord[],
  extra: Partial<CellResult> = {},
): CellResult {
  const { provider = "dind", topology = "3-bridges" } = names;
  const scenario = names.variant ? `${names.scenario}+${names.variant}` : names.scenario;
  const id = `${scenario}__${provider}__${names.engine}__${names.iptables}-${names.backend}__${names.daemon}__${topology}`;
  const base = cell(names.iptables, status, probes, extra);
  return { ...base, cell: { ...base.cell, ...names, provider, topology, id }, ...extra };
}

/** A fix's verdict on a cell, with the attempt behind it. */
export function fixResult(
  fix: string,
  overall: CellResult["fixes"][number]["verdict"]["overall"],
  vantages: Record<string, "repaired" | "still-broken" | "regressed" | "ok"> = {},
): CellResult["fixes"][number] {
  return { verdict: { fix, vantages, overall }, attempt: attempt(fix, []) };
}
