import type { Fix, Scenario, ScenarioContext } from "../api/scenario.js";
import { runProbes } from "./probe-run.js";
import { missingRules } from "../assertions/expected-rules.js";
import type { Cell } from "../config/expand.js";
import type { IptablesBuild, Settings } from "../config/schema.js";
import type { AttemptResult, TraceAnalysisRecord } from "../results/schema.js";
import { analyseTrace } from "../assertions/attribution.js";
import { nameBridges } from "../assertions/bridge-names.js";
import { tryParseIptablesSave } from "../assertions/iptables-save.js";
import { parseTrace } from "../assertions/trace.js";
import { withDeadline } from "../harness/engine.js";
import { timerInto } from "../harness/timing.js";
import type { Host, HostProvider } from "../harness/host.js";
import { EngineRefusal, type Step } from "../harness/host-ops.js";
import { otherBackendRules, READS, readHost, readOne } from "../harness/host-reads.js";
import { missingNftRules } from "../assertions/expected-nft-rules.js";
import { prepareHost } from "./prepare-host.js";
import type { KernelCapability } from "../contract/kernel-capability.js";
import { IP_FORWARD_READ, nodePlan } from "../contract/cluster.js";
import { SYSCTL } from "../contract/host-commands.js";
import { joinCluster, nodeCount, nodeDaemonOptions, readNodes, startOtherNodes } from "./cluster.js";
import { onNode, type OtherNode } from "../api/scenario.js";

export interface AttemptInput {
  provider: HostProvider;
  cell: Cell;
  settings: Settings;
  hostImage: string;
  builds: readonly IptablesBuild[];
  scenario: Scenario;
  fix: Fix | undefined;
  /** chooses the order the vantages are probed in; repeats of a cell step through different orders (default: seed "0", repeat 0) */
  probeSeed?: string;
  repeat?: number;
  /** the kernel the host will run on, where it is known before it starts (this machine's, for dind): FixStart.sharedKernel */
  sharedKernel?: KernelCapability;
}

/** What the host's set-up, probes and evidence need: an attempt's input without its fix. */
export type HostInput = Omit<AttemptInput, "fix">;

/** An attempt's record before anything ran. */
export function newAttempt(name: string): AttemptResult {
  return {
    name,
    status: "done",
    probes: [],
    userActions: [],
    errors: [],
    rules: {},
    missingRules: [],
    targets: [],
    dockerdLog: "",
    steps: [],
    timingsMs: {},
  };
}

type Timed = ReturnType<typeof timerInto>;

/** The scenario's context with the other nodes of a multi-node cell, until they have joined the cluster. */
const pendingNodes = new WeakMap<ScenarioContext, OtherNode[]>();

/**
 * A fresh host (the run's peer comes up meanwhile) and the scenario's context on it; onHost
 * gets each host as soon as there is one. A multi-node cell's other hosts start beside it.
 */
export async function openHost(
  input: HostInput,
  result: AttemptResult,
  timed: Timed,
  onHost: (host: Host, primary: boolean) => void,
): Promise<ScenarioContext> {
  // the run's external peer (started once per run) comes up while the host does
  const peer = input.provider.peer();
  peer.catch(() => {});
  const label = (suffix: string) => `${input.cell.id.slice(0, 40)}-${result.name}${suffix}`;
  const current = {
    build: input.cell.iptables,
    backend: input.cell.backend,
    daemonOptions: nodeDaemonOptions(input.cell, input.cell.daemon.options, nodePlan(0)),
  };
  const start = (suffix: string) => input.provider.start({ image: input.hostImage, label: label(suffix) });
  const [host, others] = await timed("hostStart", async () => {
    const first = start(nodeCount(input.cell) > 1 ? "-node-a" : "").then((h) => (onHost(h, true), h));
    const rest = startOtherNodes(
      { cell: input.cell, current },
      (name) => start(`-${name}`),
      (h) => onHost(h, false),
    );
    // both settle before either failure is thrown, so every host started is handed to onHost
    const [a, b] = await Promise.allSettled([first, rest]);
    if (a.status === "rejected") throw a.reason;
    if (b.status === "rejected") throw b.reason;
    return [a.value, b.value] as const;
  });
  const ctx: ScenarioContext = {
    host,
    peer: await peer,
    cell: input.cell,
    settings: input.settings,
    steps: result.steps,
    errors: result.errors,
    targets: [],
    userActions: result.userActions,
    builds: input.builds,
    current,
  };
  if (others.length > 0) pendingNodes.set(ctx, others);
  return ctx;
}

/** Records an engine refusal on the attempt; anything else is rethrown. */
export function recordRefusal(result: AttemptResult, error: unknown): void {
  if (!(error instanceof EngineRefusal)) throw error;
  result.refusal = { step: error.step, detail: error.detail };
}

/** The healthy state, then the scenario's breakage; false when the engine refused (recorded on the attempt). */
export async function setUpHost(
  ctx: ScenarioContext,
  input: HostInput,
  result: AttemptResult,
  timed: Timed,
): Promise<boolean> {
  const { scenario, cell } = input;
  const others = pendingNodes.get(ctx) ?? [];
  try {
    result.evidence = await timed("dockerdStart", async () => {
      const [evidence] = await Promise.all([
        prepareHost(ctx, {
          beforeEngine: scenario.beforeEngine && ((c) => scenario.beforeEngine?.(c, cell.variant) ?? Promise.resolve()),
          onKernel: (kernel) => (result.kernel = kernel),
        }),
        ...others.map((node) => prepareHost(onNode(ctx, node))),
      ]);
      return evidence;
    });
    if (others.length > 0) {
      const cluster = await timed("cluster", () => joinCluster(ctx, others));
      Object.assign(ctx, { cluster });
    }
    await timed("scenario", () => scenario.setUp(ctx, cell.variant));
    return true;
  } catch (error) {
    recordRefusal(result, error);
    return false;
  }
}

/** Applies a fix (a refusal to come back is recorded and judged by traffic); the user's actions retried after it. */
export async function applyFix(
  ctx: ScenarioContext,
  input: HostInput,
  fix: Fix,
  result: AttemptResult,
  timed: Timed,
): Promise<boolean> {
  const outcome = await timed("fix", () => fix.apply(ctx)).catch(
    (error: unknown) => (
      recordRefusal(result, error),
      { applied: true as const, note: "the engine refused to come back" }
    ),
  );
  if (!outcome.applied) {
    result.status = "not-applicable";
    result.reason = outcome.reason;
    return false;
  }
  result.fixNote = result.refusal ? `${outcome.note}: ${result.refusal.step}: ${result.refusal.detail}` : outcome.note;
  if (!result.refusal) await timed("retry", async () => input.scenario.retry?.(ctx, input.cell.variant));
  return true;
}

/**
 * Probes every vantage and reads node-a's evidence meanwhile (nothing a probe does changes its
 * rules or trace). The other nodes are read once every probe has ended: their rule sets carry
 * the counters of the rules that dropped the probes' packets there (e.g. node-b's hardening).
 */
export async function probeAndRead(
  ctx: ScenarioContext,
  input: HostInput,
  result: AttemptResult,
  timed: Timed,
): Promise<void> {
  const { probeRun, evidence, nodes } = await timed("probes", async () => {
    const reading = timed("evidence", () => readEvidence(ctx));
    reading.catch(() => {});
    const probeRun = await runProbes(ctx, (c) => input.scenario.probes(c), input.probeSeed ?? "0", input.repeat ?? 0);
    const [evidence, nodes] = await Promise.all([reading, readNodes(ctx)]);
    return { probeRun, evidence, nodes };
  });
  result.probes = probeRun.results;
  result.probeOrder = probeRun.order;
  applyEvidence(ctx, result, input, evidence);
  if (nodes) result.nodes = nodes;
}

/**
 * The scenario's later event (e.g. a kernel-parameter reload) after a fix, then every vantage
 * probed again: a fix that does not last is told apart from one that does. The event's steps,
 * the probes' own and node-a's settings and rule sets after it are kept apart from the fix's.
 */
export async function afterLaterEvent(
  ctx: ScenarioContext,
  input: HostInput,
  result: AttemptResult,
  timed: Timed,
): Promise<void> {
  const event = input.scenario.laterEvent?.(input.cell.variant);
  if (!event || result.status !== "done" || result.refusal) return;
  const steps: AttemptResult["steps"] = [];
  const eventCtx: ScenarioContext = { ...ctx, steps };
  await timed("laterEvent", () => event.happen(eventCtx));
  const [probeRun, read] = await timed("probesAfterEvent", () =>
    Promise.all([
      runProbes(eventCtx, (c) => input.scenario.probes(c), `${input.probeSeed ?? "0"}:after`, input.repeat ?? 0),
      readHost(ctx.host, {
        ipForward: { script: IP_FORWARD_READ, parse: (r) => r.stdout.trim() },
        final: READS.iptablesSave,
        nftFinal: READS.nftRuleset,
      }),
    ]),
  );
  result.afterEvent = {
    event: event.name,
    probes: probeRun.results,
    steps,
    sysctls: { [SYSCTL.ipForward]: read.ipForward },
    rules: { final: read.final, nftFinal: read.nftFinal },
  };
}

/** The first host's dockerd log (when the attempt has none yet), then every host of the attempt removed. */
export async function closeHost(hosts: readonly Host[], result: AttemptResult, timed: Timed): Promise<void> {
  const [host, ...others] = hosts;
  if (!host) return;
  if (!result.dockerdLog) result.dockerdLog = await readOne(host, READS.dockerdLogTail).catch(() => "");
  await timed("teardown", () => Promise.all([host, ...others].map((h) => h.dispose())));
}

/**
 * A fix's attempt when the fix says it cannot apply to the cell as configured (the same words
 * it would say on a fresh host): not-applicable, without a host.
 */
export function notApplicableAtStart(input: HostInput, fix: Fix): AttemptResult | undefined {
  const reason = fix.notApplicable?.({
    cell: input.cell,
    builds: input.builds,
    ...(input.sharedKernel ? { sharedKernel: input.sharedKernel } : {}),
    current: {
      build: input.cell.iptables,
      backend: input.cell.backend,
      daemonOptions: { ...input.cell.daemon.options },
    },
  });
  return reason === undefined ? undefined : { ...newAttempt(fix.name), status: "not-applicable", reason };
}

/** One fresh host: set up, break, optionally fix, probe, collect evidence, and always tear down. */
export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const name = input.fix?.name ?? "baseline";
  const result = newAttempt(name);
  const timed = timerInto(result.timingsMs);
  const hosts: Host[] = [];
  try {
    await withDeadline(
      (async () => {
        const ctx = await openHost(input, result, timed, (h, primary) => (primary ? hosts.unshift(h) : hosts.push(h)));
        // A refusal while setting up the healthy state leaves nothing to probe; one during a fix
        // (dockerd will not restart under the new settings) is judged by traffic like any fix.
        if (!(await setUpHost(ctx, input, result, timed))) {
          if (input.fix) {
            result.status = "not-applicable";
            result.reason = `the engine refused the cell's settings before the fix could run: ${result.refusal?.step}: ${result.refusal?.detail}`;
          }
          await collectEvidence(ctx, result, input);
          return;
        }
        if (input.fix && !(await applyFix(ctx, input, input.fix, result, timed))) return;
        await probeAndRead(ctx, input, result, timed);
        if (input.fix) await afterLaterEvent(ctx, input, result, timed);
      })(),
      input.settings.attemptTimeoutMs,
      `attempt '${name}' exceeded its ${input.settings.attemptTimeoutMs / 1000}s deadline`,
    );
  } catch (error) {
    result.status = "error";
    result.reason = (error as Error).message;
  } finally {
    // node-a's host first: its dockerd log is the attempt's
    if (hosts.length > 0) await closeHost(hosts, result, timed);
  }
  return result;
}

/** Rule sets (iptables and nft), what is missing from them, and the call trace, as the host holds them now. */
async function collectEvidence(ctx: ScenarioContext, result: AttemptResult, input: HostInput): Promise<void> {
  applyEvidence(ctx, result, input, await readEvidence(ctx));
}

export function readEvidence(ctx: ScenarioContext) {
  return readHost(ctx.host, {
    nftFinal: READS.nftRuleset,
    final: READS.iptablesSave,
    otherBackend: otherBackendRules(ctx.current.build, ctx.current.backend),
    backend: READS.firewallBackend,
    trace: READS.iptablesTrace,
    bridgeNf: READS.bridgeNfCallIptables,
    dockerdLog: READS.dockerdLogTail,
  });
}

function applyEvidence(
  ctx: ScenarioContext,
  result: AttemptResult,
  input: HostInput,
  read: Awaited<ReturnType<typeof readEvidence>>,
): void {
  const nftFinal = read.nftFinal;
  result.rules = {
    beforeBreak: ctx.rulesBeforeBreak,
    final: read.final,
    otherBackend: read.otherBackend,
    ...(ctx.nftRulesBeforeBreak ? { nftBeforeBreak: ctx.nftRulesBeforeBreak } : {}),
    ...(nftFinal ? { nftFinal } : {}),
  };
  result.dockerdLog = read.dockerdLog;
  if (result.evidence && result.probes.length > 0) result.evidence.bridgeNfCallIptables = read.bridgeNf;
  // The backend dockerd reports now (a fix may have switched it), else the one configured.
  const configured = ctx.current.daemonOptions["firewall-backend"];
  const backend =
    (result.evidence ? read.backend : undefined) ?? (typeof configured === "string" ? configured : undefined);
  result.missingRules =
    backend === "nftables"
      ? missingNftRules(nftFinal ?? "", ctx.targets)
      : missingRules(result.rules.final ?? "", ctx.targets, input.cell.engine.version);
  result.targets = ctx.targets;
  result.traceLog = read.trace;
  result.trace = traceEvidence(result.traceLog, result.rules.final, result.steps, ctx.targets);
  const faults =
    result.trace.falsePositives.length +
    result.trace.falseNegatives.length +
    result.trace.deleteMismatches.length +
    result.trace.failedCalls.length;
  if (faults === 0 && result.missingRules.length > 0) {
    const shown = result.missingRules.slice(0, 2).map((rule) => nameBridges(rule, ctx.targets));
    result.trace.explanation += `; yet ${result.missingRules.length} expected rule(s) missing at probe time: ${shown.join("; ")}${result.missingRules.length > 2 ? ", …" : ""}`;
  }
}

/** Attributes the trace: which checks lied, which rules that cost, which calls failed in which step. */
function traceEvidence(
  log: string,
  finalRules: string | undefined,
  steps: Step[],
  targets: ScenarioContext["targets"],
): TraceAnalysisRecord {
  const analysis = analyseTrace(parseTrace(log), { finalRules: tryParseIptablesSave(finalRules), steps });
  return {
    ...analysis,
    skippedRules: analysis.skippedRules.map((s) => ({ ...s, rule: nameBridges(s.rule, targets) })),
    explanation: nameBridges(analysis.explanation, targets),
  };
}
