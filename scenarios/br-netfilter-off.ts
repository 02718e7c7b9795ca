import { containerProbeCommand, iptablesSave, mustStep, setSysctl, SYSCTL, sysctlFile } from "../src/api/index.js";
import type { ProbeSpec, Scenario, ScenarioContext } from "../src/api/index.js";
import { beforeDockerd } from "./lib/host-setup.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology, networkName, runWorkload } from "./lib/topology.js";

const SETTING = sysctlFile(SYSCTL.bridgeNfCallIptables);
const OFF = setSysctl({ [SYSCTL.bridgeNfCallIptables]: 0, [SYSCTL.bridgeNfCallIp6tables]: 0 });
/** A client container beside the first user network's published container. */
const CLIENT = "n1client";

/**
 * bridge-nf-call-iptables is per network namespace since Linux 5.3: in a dind host it is the
 * host's own, and the machine's stays untouched. On an older kernel the dind host would share
 * the machine's setting, so the scenario refuses there (a VM cell has a kernel of its own).
 */
async function assertTogglingIsContained(ctx: ScenarioContext): Promise<void> {
  const check = await mustStep(
    ctx.host,
    ctx.steps,
    "bridge-nf-call-iptables is the host's own",
    `uname -r; test -w ${SETTING} || { echo "${SETTING} is missing: br_netfilter is not loaded in this kernel (load the module on the machine, or use the VM lane)"; exit 1; }; cat ${SETTING}`,
  );
  const [major = 0, minor = 0] = (check.stdout.split("\n")[0] ?? "").split(/[.-]/).map(Number);
  if (ctx.host.provider === "dind" && (major < 5 || (major === 5 && minor < 3))) {
    throw new Error(
      `kernel ${major}.${minor} keeps bridge-nf-call-iptables global: toggling it in a dind host would change this machine's; run the cell with provider vagrant`,
    );
  }
}

/** From a container on the first user network to its neighbour's published port, through the host's own address. */
function hairpinProbes(ctx: ScenarioContext): ProbeSpec[] {
  const client = ctx.targets.find((t) => t.container === CLIENT);
  const neighbour = ctx.targets.find(
    (t) => t.network === client?.network && t.container !== CLIENT && t.hostPort !== undefined,
  );
  if (!client || !neighbour) return [];
  return [
    {
      vantage: "hairpin",
      target: `${client.network}/${CLIENT} -> ${neighbour.container} via ${ctx.host.address}:${neighbour.hostPort}`,
      command: (timeoutMs) =>
        containerProbeCommand(CLIENT, `http://${ctx.host.address}:${neighbour.hostPort}/cgi-bin/id`, timeoutMs),
      expectAnswer: neighbour.container,
      expect: "reachable",
    },
  ];
}

/**
 * br_netfilter's bridge-nf-call-iptables turned off (a sysctl template, the module not loaded
 * at boot), before dockerd starts or under it. With userland-proxy off, a container reaching a
 * neighbour on its own bridge through a published port needs bridged traffic to pass iptables.
 */
export const brNetfilterOff: Scenario = {
  name: "br-netfilter-off",
  variants: ["before", "after"],
  // a sysctl reload (a hardening template) under a running dockerd, as field reports describe it
  defaultVariant: "after",
  description:
    "net.bridge.bridge-nf-call-iptables=0 before dockerd starts or under it; probes include a container to its neighbour's published port (hairpin)",
  async setUp(ctx, variant = "after") {
    await assertTogglingIsContained(ctx);
    if (variant === "before")
      await beforeDockerd(ctx, () =>
        mustStep(ctx.host, ctx.steps, "bridge-nf-call-iptables off (before dockerd)", OFF),
      );
    await deployTopology(ctx);
    await runWorkload(ctx, { name: CLIENT, network: networkName(1), hostPort: undefined });
    if (variant === "after") {
      ctx.rulesBeforeBreak = await iptablesSave(ctx.host);
      await mustStep(ctx.host, ctx.steps, "bridge-nf-call-iptables off (under dockerd)", OFF);
    }
    await mustStep(ctx.host, ctx.steps, "bridge-nf-call-iptables now", `cat ${SETTING}`);
  },
  probes: (ctx) => [...standardProbes(ctx), ...hairpinProbes(ctx)],
};
