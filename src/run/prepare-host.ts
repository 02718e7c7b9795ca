import type { ScenarioContext } from "../api/scenario.js";
import { HOST_FACT_KEYS, hostFactsScript, parseCheckProbe, parseKeyValueLines } from "../contract/host-contract.js";
import { mustStep, startInnerEngine } from "../harness/host-ops.js";
import type { Evidence } from "../results/schema.js";

/** Starts the host's engine with the cell's iptables build, backend and daemon options, and records the versions. */
export async function prepareHost(ctx: ScenarioContext): Promise<Evidence> {
  const { host, steps, cell, settings } = ctx;
  const ipForward = await startInnerEngine(host, steps, {
    build: cell.iptables.name,
    backend: cell.backend,
    daemonOptions: ctx.current.daemonOptions,
    ipForwardAtStart: settings.ipForwardAtStart,
  });
  const versions = await mustStep(host, steps, "versions", hostFactsScript(cell.iptables));
  const facts = parseKeyValueLines(versions.stdout, HOST_FACT_KEYS);
  return {
    hostMode: host.mode,
    kernel: facts.kernel,
    iptablesVersion: facts.iptablesVersion,
    iptablesPackage: facts.iptablesPackage,
    backend: cell.backend,
    dockerdVersion: facts.dockerdVersion,
    checkProbe: parseCheckProbe(facts.checkProbe),
    ipForward,
    cgroup: facts.cgroup,
  };
}

