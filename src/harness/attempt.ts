import type { Fix, Scenario, ScenarioContext } from "../../scenarios/api.js";
import { runProbes } from "../../scenarios/lib/probes.js";
import { missingRules } from "../assertions/expected-rules.js";
import type { Cell } from "../config/expand.js";
import type { IptablesBuild, Settings } from "../config/schema.js";
import type { AttemptResult, Evidence, TraceAnalysisRecord } from "../results/schema.js";
import { analyseTrace } from "../assertions/attribution.js";
import { nameBridges } from "../assertions/bridge-names.js";
import { tryParseIptablesSave } from "../assertions/iptables-save.js";
import { parseTrace } from "../assertions/trace.js";
import { withDeadline } from "./engine.js";
import { timerInto } from "./timing.js";
import { buildPrefix } from "./images/recipes.js";
import type { Host, HostProvider } from "./host.js";
import { dockerdLogTail, iptablesSave, iptablesTrace, mustStep, otherBackendRules, readIpForward, writeDaemonJson, type Step } from "./host-ops.js";

export interface AttemptInput {
  provider: HostProvider;
  cell: Cell;
  settings: Settings;
  hostImage: string;
  builds: readonly IptablesBuild[];
  scenario: Scenario;
  fix: Fix | undefined;
}

/** One fresh host: set up, break, optionally fix, probe, collect evidence, and always tear down. */
export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const name = input.fix?.name ?? "baseline";
  const timingsMs: Record<string, number> = {};
  const steps: Step[] = [];
  const result: AttemptResult = { name, status: "done", probes: [], errors: [], rules: {}, missingRules: [], targets: [], dockerdLog: "", steps, timingsMs };
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
        result.probes = await timed("probes", () => runProbes(ctx, input.scenario.probes(ctx)));
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

/** Puts the cell's iptables build first on PATH, writes daemon.json, sets forwarding, starts dockerd, records versions. */
async function prepareHost(ctx: ScenarioContext): Promise<Evidence> {
  const { host, steps, cell, settings } = ctx;
  await mustStep(host, steps, "select iptables", `fwcompat-select-iptables ${cell.iptables.name} ${cell.backend}`);
  await writeDaemonJson(host, steps, ctx.current.daemonOptions);
  await mustStep(host, steps, "set ip_forward", `sysctl -qw net.ipv4.ip_forward=${settings.ipForwardAtStart}`);
  const atStart = await readIpForward(host);
  await mustStep(host, steps, "start dockerd", "fwcompat-dockerd start", 60_000);
  const afterDockerd = await readIpForward(host);
  await mustStep(host, steps, "import workload image", "fwcompat-workload-image");
  const facts = await mustStep(
    host,
    steps,
    "versions",
    [
      "uname -r",
      "iptables --version",
      `sed -n 's/^package=//p' ${buildPrefix(cell.iptables)}/provenance`,
      "dockerd --version",
      "fwcompat-cprobe",
      "cat /run/fwcompat/cgroup 2>/dev/null || { test -e /sys/fs/cgroup/cgroup.controllers && echo v2 || echo v1; }",
    ].join("; "),
  );
  const [kernel = "", iptablesVersion = "", iptablesPackage = "", dockerdVersion = "", probe = "", cgroup = ""] = facts.stdout.split("\n");
  return {
    hostMode: host.mode,
    kernel,
    iptablesVersion,
    iptablesPackage,
    backend: cell.backend,
    dockerdVersion,
    checkProbe: probe === "buggy" || probe === "correct" ? probe : "error",
    ipForward: { atStart, afterDockerd },
    cgroup,
  };
}
