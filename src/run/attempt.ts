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
}

/** One fresh host: set up, break, optionally fix, probe, collect evidence, and always tear down. */
export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const name = input.fix?.name ?? "baseline";
  const timingsMs: Record<string, number> = {};
  const steps: Step[] = [];
  const result: AttemptResult = {
    name,
    status: "done",
    probes: [],
    userActions: [],
    errors: [],
    rules: {},
    missingRules: [],
    targets: [],
    dockerdLog: "",
    steps,
    timingsMs,
  };
  const timed = timerInto(timingsMs);
  let host: Host | undefined;
  try {
    await withDeadline(
      (async () => {
        // the run's external peer (started once per run) comes up while the host does
        const peer = input.provider.peer();
        peer.catch(() => {});
        host = await timed("hostStart", () =>
          input.provider.start({ image: input.hostImage, label: `${input.cell.id.slice(0, 40)}-${name}` }),
        );
        const ctx: ScenarioContext = {
          host,
          peer: await peer,
          cell: input.cell,
          settings: input.settings,
          steps,
          errors: result.errors,
          targets: [],
          userActions: result.userActions,
          builds: input.builds,
          current: {
            build: input.cell.iptables,
            backend: input.cell.backend,
            daemonOptions: { ...input.cell.daemon.options },
          },
        };
        const refused = (error: unknown) => {
          if (!(error instanceof EngineRefusal)) throw error;
          result.refusal = { step: error.step, detail: error.detail };
        };
        // A refusal while setting up the healthy state leaves nothing to probe; one during a fix
        // (dockerd will not restart under the new settings) is judged by traffic like any fix.
        const setUp = async () => {
          const { scenario, cell } = input;
          result.evidence = await timed("dockerdStart", () =>
            prepareHost(ctx, {
              beforeEngine:
                scenario.beforeEngine && ((c) => scenario.beforeEngine?.(c, cell.variant) ?? Promise.resolve()),
              onKernel: (kernel) => (result.kernel = kernel),
            }),
          );
          await timed("scenario", () => input.scenario.setUp(ctx, input.cell.variant));
          return true;
        };
        if (!(await setUp().catch((error: unknown) => (refused(error), false)))) {
          if (input.fix) {
            result.status = "not-applicable";
            result.reason = `the engine refused the cell's settings before the fix could run: ${result.refusal?.step}: ${result.refusal?.detail}`;
          }
          await collectEvidence(ctx, result, input);
          return;
        }
        if (input.fix) {
          const outcome = await timed("fix", () => (input.fix as Fix).apply(ctx)).catch(
            (error: unknown) => (refused(error), { applied: true as const, note: "the engine refused to come back" }),
          );
          if (!outcome.applied) {
            result.status = "not-applicable";
            result.reason = outcome.reason;
            return;
          }
          result.fixNote = result.refusal
            ? `${outcome.note}: ${result.refusal.step}: ${result.refusal.detail}`
            : outcome.note;
          if (!result.refusal) await timed("retry", async () => input.scenario.retry?.(ctx, input.cell.variant));
        }
        const { probeRun, evidence } = await timed("probes", async () => {
          // Nothing a probe does changes the rules or the trace: they are read while the probes run.
          const reading = timed("evidence", () => readEvidence(ctx));
          reading.catch(() => {});
          return {
            probeRun: await runProbes(ctx, (c) => input.scenario.probes(c), input.probeSeed ?? "0", input.repeat ?? 0),
            evidence: await reading,
          };
        });
        result.probes = probeRun.results;
        result.probeOrder = probeRun.order;
        applyEvidence(ctx, result, input, evidence);
      })(),
      input.settings.attemptTimeoutMs,
      `attempt '${name}' exceeded its ${input.settings.attemptTimeoutMs / 1000}s deadline`,
    );
  } catch (error) {
    result.status = "error";
    result.reason = (error as Error).message;
  } finally {
    if (host) {
      const alive = host;
      if (!result.dockerdLog) result.dockerdLog = await readOne(alive, READS.dockerdLogTail).catch(() => "");
      await timed("teardown", () => alive.dispose());
    }
  }
  return result;
}

/** Rule sets (iptables and nft), what is missing from them, and the call trace, as the host holds them now. */
async function collectEvidence(ctx: ScenarioContext, result: AttemptResult, input: AttemptInput): Promise<void> {
  applyEvidence(ctx, result, input, await readEvidence(ctx));
}

function readEvidence(ctx: ScenarioContext) {
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
  input: AttemptInput,
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
