import type { ScenarioContext } from "../api/scenario.js";
import { HOST_FACT_KEYS, hostFactsScript, parseCheckProbe, parseKeyValueLines, provenanceFile } from "../contract/host-contract.js";
import { engineBuildFacts, firewallBackendInForce, mustStep, startInnerEngine } from "../harness/host-ops.js";
import { parseProvenance } from "../harness/images/git-recipe.js";
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
    ...(await commitOfBuild(ctx)),
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

/** For a build from git, the commit its provenance file names (id, describe, subject, date). */
async function commitOfBuild(ctx: ScenarioContext): Promise<Pick<Evidence, "iptablesCommit">> {
  const read = await ctx.host.sh(`cat ${provenanceFile(ctx.cell.iptables)}`, 10_000);
  const fields = parseProvenance(read.stdout);
  const [commit, describe = "", subject = "", date = ""] = ["commit", "describe", "subject", "date"].map((key) => fields.get(key)?.[0]);
  return commit ? { iptablesCommit: { commit, describe, subject, date } } : {};
}
