import { z } from "zod";
import { KERNEL_SUPPORT } from "../contract/kernel-capability.js";
import { hostEnvironmentSchema } from "./host-environment.js";

/**
 * The shapes below are the one source of the result types code builds (Step, Target,
 * ProbeResult, MatchedError, TraceAnalysis and its parts): each is z.infer of its schema.
 */

/**
 * Where a probe is sent from. The first four apply to every scenario; the rest exist where a
 * scenario deploys them: a VM-like namespace behind a foreign bridge towards another one on
 * the same bridge (bridged) or towards a network beyond the host (routed), and a container
 * towards its neighbour's published port through the host's address (hairpin). A multi-node
 * cell adds a container on one node towards a container on another by its address, over HTTP
 * and ICMP (cross-node), and towards a service of the other node's host itself, behind that
 * host's own firewall (to-other-node).
 */
export const VANTAGES = [
  "localhost",
  "host-ip",
  "external",
  "cross-network",
  "foreign-bridged",
  "foreign-routed",
  "hairpin",
  "cross-node",
  "to-other-node",
] as const;
export const PROBE_OUTCOMES = ["ok", "timeout", "refused", "reset", "error"] as const;
export const EXPECTATIONS = ["reachable", "blocked"] as const;

/** 2: user actions, probe order, partial fix verdicts with counts (version 1 results are upgraded when read, see upgrade.ts) */
export const RESULT_SCHEMA_VERSION = 2;

/** Not a probe: the user's own actions (docker run -p, docker network create) judged like a vantage. */
export const USER_ACTION = "user-action";
/** Every column of a verdict: the probe vantages, then the user's actions. */
export const VERDICT_COLUMNS = [...VANTAGES, USER_ACTION] as const;

const probe = z.object({
  vantage: z.enum(VANTAGES),
  target: z.string(),
  expect: z.enum(EXPECTATIONS),
  outcome: z.enum(PROBE_OUTCOMES),
  /** the outcome is what the expectation asks for */
  pass: z.boolean(),
  ms: z.number(),
  detail: z.string(),
  /** the policy that must block this traffic, when the expectation is "blocked" */
  guard: z.string().optional(),
});

/** One command run inside a host as part of a scenario, kept as evidence. */
const step = z.object({
  name: z.string(),
  /** epoch milliseconds; the host shares this machine's clock, so trace calls can be placed in a step */
  startedAtMs: z.number(),
  command: z.string(),
  exitCode: z.number(),
  stdout: z.string(),
  stderr: z.string(),
  ms: z.number(),
});

const finding = z.object({
  kind: z.enum(["false-positive", "false-negative", "delete-mismatch", "failed-call"]),
  /** "table CHAIN spec" in iptables-save form */
  rule: z.string(),
  /** the argv dockerd passed */
  call: z.string(),
  atMs: z.number(),
  stderr: z.string().optional(),
  /** the call's exit status, where it failed (absent from results written before it was kept) */
  exitCode: z.number().optional(),
  /** the scenario step running when it happened */
  step: z.string().optional(),
});

const skippedRule = z.object({
  rule: z.string(),
  /** absent from the rule set captured at probe time */
  confirmedMissing: z.boolean(),
});

export const traceAnalysisSchema = z.object({
  calls: z.number(),
  dockerdCalls: z.number(),
  /** nft calls by dockerd (its nftables backend, or the iptables backend's clean-up); absent from results written before it was counted */
  dockerdNftCalls: z.number().optional(),
  /** of those, the ones that deleted Docker's nftables table and declared it again whole (its repair after a failed update); absent from older results */
  dockerdNftReloads: z.number().optional(),
  falsePositives: z.array(finding),
  falseNegatives: z.array(finding),
  deleteMismatches: z.array(finding),
  failedCalls: z.array(finding),
  /**
   * dockerd's iptables calls (checks included) that exited 111 and printed nothing: libxtables refusing to run
   * in a secure exec (AT_SECURE; iptables 1.8.12). Absent from results written before it was counted.
   */
  silentRefusals: z.number().optional(),
  /** rules (with bridges named by their network, e.g. br-{fwc-net2}) a wrong check made dockerd skip */
  skippedRules: z.array(skippedRule),
  explanation: z.string(),
});

/** One of the user's actions the scenario tried (e.g. `docker run -p 8084:80`), with its result. */
const userAction = z.object({
  /** what the user typed, e.g. "docker run -p 8084:80" */
  action: z.string(),
  /** when it was tried, e.g. "after flush" or "after fix" */
  when: z.string(),
  ok: z.boolean(),
  exitCode: z.number(),
  /** the error text it printed (empty when ok) */
  error: z.string(),
});

/** A workload container the scenario deployed inside the host. */
const target = z.object({
  container: z.string(),
  network: z.string(),
  /** the Linux bridge the network uses (docker0, br-<id>) */
  bridge: z.string(),
  subnet: z.string(),
  ip: z.string(),
  /** published host port, if any */
  hostPort: z.number().optional(),
});

/** An error captured from a command the scenario expected might fail, matched to a known signature. */
const matchedError = z.object({
  /** the scenario step whose output matched */
  step: z.string(),
  signature: z.string(),
  /** the exact line(s) the user sees */
  text: z.string(),
});

/** Whether the kernel the host ran on has the legacy xtables tables and nf_tables, read from inside the host before dockerd started. */
export const kernelCapabilitySchema = z.object({
  release: z.string(),
  legacyXtables: z.enum(KERNEL_SUPPORT),
  nfTables: z.enum(KERNEL_SUPPORT),
  /** what was read: configuration, table lists, the two tries, loaded modules */
  detail: z.string(),
});

const evidence = z.object({
  hostMode: z.string(),
  kernel: z.string(),
  iptablesVersion: z.string(),
  iptablesPackage: z.string(),
  /** for a build from git: the commit it was built from */
  iptablesCommit: z
    .object({ commit: z.string(), describe: z.string(), subject: z.string(), date: z.string() })
    .optional(),
  /** for a build from git with upstream commits cherry-picked on top: each, in the order applied */
  iptablesPatches: z.array(z.object({ commit: z.string(), subject: z.string() })).optional(),
  backend: z.string(),
  dockerdVersion: z.string(),
  checkProbe: z.enum(["correct", "buggy", "error"]),
  ipForward: z.object({ atStart: z.number(), afterDockerd: z.number() }),
  cgroup: z.string(),
  /** the firewall backend dockerd reports in force (docker info FirewallBackend.Driver; engines 28.x+) */
  firewallBackend: z.string().optional(),
  /** an engine compiled from source: its upstream tag, commit and the Go that built it */
  engineBuild: z.object({ tag: z.string(), commit: z.string(), go: z.string() }).optional(),
  /**
   * the host's own userland as fwcompat-userland found it: /etc/os-release's name, each tool
   * (path, where its links lead, its version, the package that installed it) and the
   * update-alternatives choices
   */
  userland: z
    .object({
      os: z.string(),
      tools: z.array(
        z.object({
          tool: z.string(),
          path: z.string(),
          resolved: z.string(),
          version: z.string(),
          package: z.string(),
        }),
      ),
      alternatives: z.array(z.object({ name: z.string(), target: z.string() })),
    })
    .optional(),
  /** net.bridge.bridge-nf-call-iptables in the host ("1", "0", or "absent": br_netfilter not loaded), read after the probes */
  bridgeNfCallIptables: z.string().optional(),
});

/** One host of a multi-node cell, as read at probe time (node-a's rule sets are the attempt's own). */
const clusterNode = z.object({
  /** node-a (the one the scenario breaks and the fix acts on), node-b, … */
  name: z.string(),
  /** its address on the run network */
  address: z.string(),
  /** its container subnets (docker0's and the user networks' pool) */
  subnets: z.array(z.string()),
  /** `ip -4 route` and addresses: the routes to the other nodes' subnets */
  routes: z.string(),
  /** kernel settings that decide forwarding, e.g. net.ipv4.ip_forward */
  sysctls: z.record(z.string(), z.string()),
  /** the other nodes' rule sets (node-a's are the attempt's rules) */
  rules: z.object({ final: z.string().optional(), nftFinal: z.string().optional() }).optional(),
  trace: traceAnalysisSchema.optional(),
  traceLog: z.string().optional(),
  dockerdLog: z.string().optional(),
  /** the workload the node runs for the other nodes' probes */
  targets: z.array(target).optional(),
  /** what was run on this node (node-a's steps are the attempt's) */
  steps: z.array(step).optional(),
});

/** The same vantages probed again after a later event the fix must survive (e.g. a kernel-parameter reload). */
const afterEvent = z.object({
  /** what happened, e.g. "kernel-parameter reload (sysctl --system)" */
  event: z.string(),
  probes: z.array(probe),
  /** the steps of the event itself */
  steps: z.array(step),
  /** node-a's net.ipv4.ip_forward (and other settings) after the event */
  sysctls: z.record(z.string(), z.string()).optional(),
  rules: z.object({ final: z.string().optional(), nftFinal: z.string().optional() }).optional(),
});

export const attemptSchema = z.object({
  /** "baseline" or the fix's name */
  name: z.string(),
  status: z.enum(["done", "not-applicable", "error"]),
  reason: z.string().optional(),
  fixNote: z.string().optional(),
  /**
   * settings.fixesOnHealthyBaseline chained: this fix was regression-checked together with
   * others on one healthy host, after these fixes (each of them ok there)
   */
  chainedAfter: z.array(z.string()).optional(),
  evidence: evidence.optional(),
  /** the kernel's legacy xtables and nf_tables, read in the host before dockerd started (kept when dockerd then refused to start) */
  kernel: kernelCapabilitySchema.optional(),
  probes: z.array(probe),
  /** the order the vantages were launched in (all at once, after the host's neighbour entry of each target was pinned), chosen by the seed and the repeat's number */
  probeOrder: z.object({ seed: z.string(), repeat: z.number(), vantages: z.array(z.enum(VANTAGES)) }).optional(),
  /** the user's actions, in the order tried; a fix attempt's retries come last */
  userActions: z.array(userAction).default([]),
  errors: z.array(matchedError),
  rules: z.object({
    beforeBreak: z.string().optional(),
    final: z.string().optional(),
    /** rules still loaded through the other backend (nft vs legacy), if any */
    otherBackend: z.string().optional(),
    /** `nft list ruleset` just before the breakage and at probe time (hosts with nftables) */
    nftBeforeBreak: z.string().optional(),
    nftFinal: z.string().optional(),
  }),
  missingRules: z.array(z.string()),
  /** traffic that had to be blocked and got through (a policy bypassed, isolation broken) */
  securityFindings: z.array(z.string()).optional(),
  /** the engine refused the cell's settings (dockerd would not start, a network could not be created) */
  refusal: z.object({ step: z.string(), detail: z.string() }).optional(),
  /** what the scenario deployed (bridges, addresses, ports) */
  targets: z.array(target),
  /** every iptables call on the host, analysed; traceLog is the shim's raw record */
  trace: traceAnalysisSchema.optional(),
  traceLog: z.string().optional(),
  dockerdLog: z.string(),
  steps: z.array(step),
  timingsMs: z.record(z.string(), z.number()),
  /** a multi-node cell: every node (node-a first), with the other nodes' evidence */
  nodes: z.array(clusterNode).optional(),
  /** the scenario's later event (e.g. a kernel-parameter reload) and the probes after it */
  afterEvent: afterEvent.optional(),
});

/** per vantage: repaired = every broken target now passes; still-broken = some do not (the counts say how many were repaired) */
export const VANTAGE_VERDICTS = ["repaired", "still-broken", "regressed", "ok"] as const;
/** overall, partial = some targets were repaired and others not */
export const OVERALL_VERDICTS = [
  "repaired",
  "partial",
  "still-broken",
  "regressed",
  "ok",
  "not-applicable",
  "error",
] as const;

const vantageCount = z.object({
  /** targets (or user actions) that failed in the baseline */
  broken: z.number(),
  /** of those, how many pass after the fix */
  repaired: z.number(),
  /** targets that passed in the baseline and fail after the fix */
  regressed: z.number(),
  total: z.number(),
});

export const fixVerdictSchema = z.object({
  fix: z.string(),
  /** per vantage (and user-action): what the fix did there */
  vantages: z.record(z.string(), z.enum(VANTAGE_VERDICTS)),
  /** per vantage: the counts behind the verdict, e.g. external repaired 1 of 4 broken */
  counts: z.record(z.string(), vantageCount).optional(),
  overall: z.enum(OVERALL_VERDICTS),
  /** why, when the verdict is not read off the counts alone (no probe ran, a retried action failed) */
  reason: z.string().optional(),
  /** the user's actions that still fail after the fix, with their error */
  failedActions: z.array(z.object({ action: z.string(), exitCode: z.number(), error: z.string() })).optional(),
  /** of the rules the baseline's wrong checks skipped, those present after this fix */
  restoredRules: z.array(z.string()).optional(),
  /** the fix judged again after the scenario's later event: a fix that does not last reads still-broken or regressed here */
  afterEvent: z
    .object({
      event: z.string(),
      vantages: z.record(z.string(), z.enum(VANTAGE_VERDICTS)),
      counts: z.record(z.string(), vantageCount).optional(),
      overall: z.enum(OVERALL_VERDICTS),
      reason: z.string().optional(),
    })
    .optional(),
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
   * error: the harness failed; flaky: repeats of the cell disagreed (see repeats);
   * refused: the engine refused the cell's settings before anything could be probed (reason: its words).
   */
  status: z.enum(["reproduced", "works", "unavailable", "unsupported", "error", "flaky", "refused"]),
  reason: z.string().optional(),
  /** vantages whose probes did not meet expectations in the baseline, and user-action if one of the user's actions failed */
  brokenVantages: z.array(z.string()),
  /** the baseline's security findings: traffic a policy or Docker's isolation must block got through */
  securityFindings: z.array(z.string()).optional(),
  /**
   * the kernel the cell's hosts ran on (the baseline's reading; for a dind cell that did not run,
   * this machine's kernel as a host container read it before the run); absent from older results
   */
  kernel: kernelCapabilitySchema.optional(),
  /**
   * where the baseline's host ran: privileged or the capability fallback (or a VM), the cgroup
   * version and kernel it saw, the outer engine; absent from older results and cells that
   * started no host (a malformed record is dropped, not fatal)
   */
  host: hostEnvironmentSchema.optional().catch(undefined),
  /** one line on why, from the iptables call trace of the baseline */
  explanation: z.string().optional(),
  baseline: attemptSchema.optional(),
  fixes: z.array(z.object({ verdict: fixVerdictSchema, attempt: attemptSchema })),
  /** the cell's fixes not tried, and why (settings.fixesOnHealthyBaseline skip: the baseline works) */
  fixesNotRun: z.object({ fixes: z.array(z.string()), reason: z.string() }).optional(),
  /** with --repeat N: how many repeats agreed with the first, and every distinct verdict seen */
  repeats: z
    .object({
      count: z.number(),
      agreeing: z.number(),
      outcomes: z.array(
        z.object({
          verdict: z.string(),
          count: z.number(),
          /** the probe orders (vantages, comma-separated) of the repeats that gave this verdict */
          probeOrders: z.array(z.string()).optional(),
        }),
      ),
    })
    .optional(),
  startedAt: z.string(),
  durationMs: z.number(),
});

export type ProbeRecord = z.infer<typeof probe>;
export type StepRecord = z.infer<typeof step>;
export type TargetRecord = z.infer<typeof target>;
export type MatchedErrorRecord = z.infer<typeof matchedError>;
export type FindingRecord = z.infer<typeof finding>;
export type SkippedRuleRecord = z.infer<typeof skippedRule>;
export type UserActionRecord = z.infer<typeof userAction>;
export type VantageCount = z.infer<typeof vantageCount>;
export type AttemptResult = z.infer<typeof attemptSchema>;
export type FixVerdict = z.infer<typeof fixVerdictSchema>;
export type CellResult = z.infer<typeof cellResultSchema>;
export type Evidence = z.infer<typeof evidence>;
export type KernelCapabilityRecord = z.infer<typeof kernelCapabilitySchema>;
export type TraceAnalysisRecord = z.infer<typeof traceAnalysisSchema>;
export type ClusterNodeRecord = z.infer<typeof clusterNode>;
export type AfterEventRecord = z.infer<typeof afterEvent>;
