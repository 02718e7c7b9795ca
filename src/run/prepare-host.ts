import type { ScenarioContext } from "../api/scenario.js";
import { HOST_FACT_KEYS, hostFactsScript, parseCheckProbe, parseKeyValueLines } from "../contract/host-contract.js";
import { runSteps, startInnerEngine } from "../harness/host-ops.js";
import { buildProvenance, READS } from "../harness/host-reads.js";
import { parseProvenance } from "../harness/images/git-recipe.js";
import type { Evidence } from "../results/schema.js";
import type { KernelCapability } from "../contract/kernel-capability.js";

/**
 * Starts the host's engine with the cell's iptables build, backend, daemon options and
 * forwarding, and records the versions, the firewall backend dockerd reports and, for an
 * engine compiled from source, its tag, commit and Go (two calls into the host). A dockerd
 * that will not start under the cell's settings throws an EngineRefusal: the attempt records it as its result.
 * `beforeEngine` (a scenario's) runs first, where a boot-time service or an image's entrypoint
 * would: it may change the iptables build or backend dockerd gets (ctx.current).
 */
export async function prepareHost(
  ctx: ScenarioContext,
  hooks: {
    beforeEngine?: (ctx: ScenarioContext) => Promise<void>;
    /** the kernel's capability, told as soon as it is read (before dockerd starts, or refuses to) */
    onKernel?: (kernel: KernelCapability) => void;
  } = {},
): Promise<Evidence> {
  const { host, steps, cell, settings } = ctx;
  await hooks.beforeEngine?.(ctx);
  const ipForward = await startInnerEngine(
    host,
    steps,
    {
      build: ctx.current.build.name,
      backend: ctx.current.backend,
      daemonOptions: ctx.current.daemonOptions,
      ipForwardAtStart: cell.daemon.ipForwardAtStart ?? settings.ipForwardAtStart,
    },
    hooks.onKernel,
  );
  const reads = {
    backend: READS.firewallBackend,
    engine: READS.engineBuild,
    provenance: buildProvenance(ctx.current.build),
    userland: READS.userland,
  };
  const [versions, backend, engine, provenance, userlandRead] = await runSteps(host, steps, [
    { name: "versions", script: hostFactsScript(ctx.current.build) },
    ...Object.entries(reads).map(([name, read]) => ({
      name,
      script: read.script,
      policy: "observe" as const,
      record: false,
    })),
  ]);
  const facts = parseKeyValueLines(versions?.stdout ?? "", HOST_FACT_KEYS);
  const firewallBackend = backend && reads.backend.parse(backend);
  const engineBuild = engine && reads.engine.parse(engine);
  const userland = userlandRead && reads.userland.parse(userlandRead);
  return {
    ...commitOfBuild(provenance?.stdout ?? ""),
    hostMode: host.mode,
    kernel: facts.kernel,
    iptablesVersion: facts.iptablesVersion,
    iptablesPackage: facts.iptablesPackage,
    backend: ctx.current.backend,
    dockerdVersion: facts.dockerdVersion,
    checkProbe: parseCheckProbe(facts.checkProbe),
    ipForward,
    cgroup: facts.cgroup,
    ...(firewallBackend ? { firewallBackend } : {}),
    ...(engineBuild ? { engineBuild } : {}),
    ...(userland ? { userland } : {}),
  };
}

/**
 * For a build from git, the commit its provenance file names (id, describe, subject, date),
 * and the upstream commits cherry-picked on top of it (`patch=<commit> <subject>` lines).
 */
export function commitOfBuild(provenance: string): Pick<Evidence, "iptablesCommit" | "iptablesPatches"> {
  const fields = parseProvenance(provenance);
  const [commit, describe = "", subject = "", date = ""] = ["commit", "describe", "subject", "date"].map(
    (key) => fields.get(key)?.[0],
  );
  const patches = (fields.get("patch") ?? []).map((line) => {
    const [id = "", ...words] = line.split(" ");
    return { commit: id, subject: words.join(" ") };
  });
  return commit
    ? { iptablesCommit: { commit, describe, subject, date }, ...(patches.length ? { iptablesPatches: patches } : {}) }
    : {};
}
