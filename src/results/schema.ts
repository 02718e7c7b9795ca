import { z } from "zod";
import { VANTAGES } from "../assertions/probe.js";

export const RESULT_SCHEMA_VERSION = 1;

const probe = z.object({
  vantage: z.enum(VANTAGES),
  target: z.string(),
  expect: z.enum(["reachable", "blocked"]),
  outcome: z.enum(["ok", "timeout", "refused", "reset", "error"]),
  pass: z.boolean(),
  ms: z.number(),
  detail: z.string(),
  /** the policy that must block this traffic, when the expectation is "blocked" */
  guard: z.string().optional(),
});

const step = z.object({ name: z.string(), startedAtMs: z.number(), command: z.string(), exitCode: z.number(), stdout: z.string(), stderr: z.string(), ms: z.number() });

const finding = z.object({
  kind: z.enum(["false-positive", "false-negative", "delete-mismatch", "failed-call"]),
  rule: z.string(),
  call: z.string(),
  atMs: z.number(),
  stderr: z.string().optional(),
  step: z.string().optional(),
});

export const traceAnalysisSchema = z.object({
  calls: z.number(),
  dockerdCalls: z.number(),
  falsePositives: z.array(finding),
  falseNegatives: z.array(finding),
  deleteMismatches: z.array(finding),
  failedCalls: z.array(finding),
  /** rules (with bridges named by their network, e.g. br-{fwc-net2}) a wrong check made dockerd skip */
  skippedRules: z.array(z.object({ rule: z.string(), confirmedMissing: z.boolean() })),
  explanation: z.string(),
});

const target = z.object({
  container: z.string(),
  network: z.string(),
  bridge: z.string(),
  subnet: z.string(),
  ip: z.string(),
  hostPort: z.number().optional(),
  late: z.boolean().optional(),
});

const evidence = z.object({
  hostMode: z.string(),
  kernel: z.string(),
  iptablesVersion: z.string(),
  iptablesPackage: z.string(),
  backend: z.string(),
  dockerdVersion: z.string(),
  checkProbe: z.enum(["correct", "buggy", "error"]),
  ipForward: z.object({ atStart: z.number(), afterDockerd: z.number() }),
  cgroup: z.string(),
});

export const attemptSchema = z.object({
  /** "baseline" or the fix's name */
  name: z.string(),
  status: z.enum(["done", "not-applicable", "error"]),
  reason: z.string().optional(),
  fixNote: z.string().optional(),
  evidence: evidence.optional(),
  probes: z.array(probe),
  errors: z.array(z.object({ step: z.string(), signature: z.string(), text: z.string() })),
  rules: z.object({
    beforeBreak: z.string().optional(),
    final: z.string().optional(),
    /** rules still loaded through the other backend (nft vs legacy), if any */
    otherBackend: z.string().optional(),
  }),
  missingRules: z.array(z.string()),
  /** traffic that had to be blocked and got through (a policy bypassed, isolation broken) */
  securityFindings: z.array(z.string()).optional(),
  /** what the scenario deployed (bridges, addresses, ports) */
  targets: z.array(target),
  /** every iptables call on the host, analysed; traceLog is the shim's raw record */
  trace: traceAnalysisSchema.optional(),
  traceLog: z.string().optional(),
  dockerdLog: z.string(),
  steps: z.array(step),
  timingsMs: z.record(z.string(), z.number()),
});

export const fixVerdictSchema = z.object({
  fix: z.string(),
  /** per vantage: what the fix did to traffic there */
  vantages: z.record(z.string(), z.enum(["repaired", "still-broken", "regressed", "ok"])),
  overall: z.enum(["repaired", "still-broken", "regressed", "ok", "not-applicable", "error"]),
  /** of the rules the baseline's wrong checks skipped, those present after this fix */
  restoredRules: z.array(z.string()).optional(),
});

export const cellResultSchema = z.object({
  schemaVersion: z.literal(RESULT_SCHEMA_VERSION),
  runId: z.string(),
  cell: z.object({
    id: z.string(),
    provider: z.string(),
    engine: z.string(),
    iptables: z.string(),
    backend: z.string(),
    daemon: z.string(),
    topology: z.string(),
    scenario: z.string(),
    variant: z.string().optional(),
    fixes: z.array(z.string()),
  }),
  /**
   * reproduced: some vantage misbehaved; works: every probe as expected;
   * unavailable: a source could not be had; unsupported: this environment cannot run it;
   * error: the harness failed; flaky: repeats of the cell disagreed (see repeats).
   */
  status: z.enum(["reproduced", "works", "unavailable", "unsupported", "error", "flaky"]),
  reason: z.string().optional(),
  /** vantages whose probes did not meet expectations in the baseline */
  brokenVantages: z.array(z.string()),
  /** the baseline's security findings: traffic a policy or Docker's isolation must block got through */
  securityFindings: z.array(z.string()).optional(),
  /** one line on why, from the iptables call trace of the baseline */
  explanation: z.string().optional(),
  baseline: attemptSchema.optional(),
  fixes: z.array(z.object({ verdict: fixVerdictSchema, attempt: attemptSchema })),
  /** with --repeat N: how many repeats agreed with the first, and every distinct verdict seen */
  repeats: z
    .object({
      count: z.number(),
      agreeing: z.number(),
      outcomes: z.array(z.object({ verdict: z.string(), count: z.number() })),
    })
    .optional(),
  startedAt: z.string(),
  durationMs: z.number(),
});

export type ProbeRecord = z.infer<typeof probe>;
export type AttemptResult = z.infer<typeof attemptSchema>;
export type FixVerdict = z.infer<typeof fixVerdictSchema>;
export type CellResult = z.infer<typeof cellResultSchema>;
export type Evidence = z.infer<typeof evidence>;
export type TraceAnalysisRecord = z.infer<typeof traceAnalysisSchema>;
