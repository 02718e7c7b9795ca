import type { ScenarioContext } from "../api/scenario.js";
import { HOST_FACT_KEYS, hostFactsScript, parseCheckProbe, parseKeyValueLines } from "../contract/host-contract.js";
import { engineBuildFacts, firewallBackendInForce, mustStep, startInnerEngine } from "../harness/host-ops.js";
import type { Evidence } from "../results/schema.js";

/**
 * Starts the host's engine with the cell's iptables build, backend, daemon options and
 * forwarding, and records the versions, the firewall backend dockerd reports and, for an
 * engine compiled from source, its tag, commit and Go. A dockerd that will not start under
 * the cell's settings throws an EngineRefusal: the attempt records it as its result.
 */
export async function prepareHost(ctx: ScenarioContext): Promise<Evidence> {
  const { host, steps, cell, settings } = ctx;
  const ipForward = await startInnerEngine(host, steps, {
    build: cell.iptables.name,
    backend: cell.backend,
    daemonOptions: ctx.current.daemonOptions,
    ipForwardAtStart: cell.daemon.ipForwardAtStart ?? settings.ipForwardAtStart,
  });
  const versions = await mustStep(host, steps, "versions", hostFactsScript(cell.iptables));
  const facts = parseKeyValueLines(versions.stdout, HOST_FACT_KEYS);
  const firewallBackend = await firewallBackendInForce(host);
  const engineBuild = await engineBuildFacts(host);
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
    ...(firewallBackend ? { firewallBackend } : {}),
    ...(engineBuild ? { engineBuild } : {}),
  };
}

