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
import { bridgeNfCallIptables, dockerdLogTail, iptablesSave, iptablesTrace, otherBackendRules, type Step } from "../harness/host-ops.js";
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
  const result: AttemptResult = { name, status: "done", probes: [], userActions: [], errors: [], rules: {}, missingRules: [], targets: [], dockerdLog: "", steps, timingsMs };
  const timed = timerInto(timingsMs);
  let host: Host | undefined;
  try {
    await withDeadline(
      (async () => {
        host = await timed("hostStart", () => input.provider.start({ image: input.hostImage, label: `${input.cell.id.slice(0, 40)}-${name}` }));
        const ctx: ScenarioContext = {
          host,
          peer: await input.provider.peer(),
          cell: input.cell,
          settings: input.settings,
          steps,
          errors: result.errors,
          targets: [],
          userActions: result.userActions,
          builds: input.builds,
          current: { build: input.cell.iptables, backend: input.cell.backend, daemonOptions: { ...input.cell.daemon.options } },
        };
        result.evidence = await timed("dockerdStart", () => prepareHost(ctx));
        await timed("scenario", () => input.scenario.setUp(ctx, input.cell.variant));
        if (input.fix) {
          const outcome = await timed("fix", () => (input.fix as Fix).apply(ctx));
          if (!outcome.applied) {
            result.status = "not-applicable";
            result.reason = outcome.reason;
            return;
          }
          result.fixNote = outcome.note;
          await timed("retry", async () => input.scenario.retry?.(ctx, input.cell.variant));
        }
        const probeRun = await timed("probes", () => runProbes(ctx, input.scenario.probes(ctx), input.probeSeed ?? "0", input.repeat ?? 0));
        result.probes = probeRun.results;
        result.probeOrder = probeRun.order;
        if (result.evidence) result.evidence.bridgeNfCallIptables = await bridgeNfCallIptables(ctx.host);
        result.rules = {
          beforeBreak: ctx.rulesBeforeBreak,
          final: await iptablesSave(ctx.host),
          otherBackend: await otherBackendRules(ctx.host, ctx.current.build, ctx.current.backend),
        };
        result.missingRules = missingRules(result.rules.final ?? "", ctx.targets, input.cell.engine.version);
        result.targets = ctx.targets;
        result.traceLog = await iptablesTrace(ctx.host);
        result.trace = traceEvidence(result.traceLog, result.rules.final, steps, ctx.targets);
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
      result.dockerdLog = await dockerdLogTail(alive).catch(() => "");
      await timed("teardown", () => alive.dispose());
    }
  }
  return result;
}

/** Attributes the trace: which checks lied, which rules that cost, which calls failed in which step. */
function traceEvidence(log: string, finalRules: string | undefined, steps: Step[], targets: ScenarioContext["targets"]): TraceAnalysisRecord {
  const analysis = analyseTrace(parseTrace(log), { finalRules: tryParseIptablesSave(finalRules), steps });
  return {
    ...analysis,
    skippedRules: analysis.skippedRules.map((s) => ({ ...s, rule: nameBridges(s.rule, targets) })),
    explanation: nameBridges(analysis.explanation, targets),
  };
}
