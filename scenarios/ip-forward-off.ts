import { matchErrors } from "../src/assertions/error-matchers.js";
import { iptablesSave, mustStep, runStep } from "../src/harness/host-ops.js";
import type { Scenario, ScenarioContext } from "./api.js";
import { tryUserActions } from "./lib/late-workload.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

async function captureWarnings(ctx: ScenarioContext, when: string): Promise<void> {
  const info = await runStep(ctx.host, ctx.steps, `${when}: docker info`, "docker info 2>&1 | grep -i -E 'warning|forward' || true");
  ctx.errors.push(...matchErrors(`${when}: docker info`, info.stdout));
  await mustStep(ctx.host, ctx.steps, `${when}: ip_forward`, "cat /proc/sys/net/ipv4/ip_forward");
}

/**
 * Field report 1, second half: `net.ipv4.ip_forward=0` (a sysctl reload, a hardening
 * template) either before dockerd starts or under a running one.
 */
export const ipForwardOff: Scenario = {
  name: "ip-forward-off",
  variants: ["before", "after"],
  description: "set net.ipv4.ip_forward=0 before dockerd starts (before) or under a running dockerd (after)",
  async setUp(ctx, variant = "after") {
    if (variant === "before") {
      await mustStep(ctx.host, ctx.steps, "forwarding off, restart dockerd", "fwcompat-dockerd stop && sysctl -qw net.ipv4.ip_forward=0 && fwcompat-dockerd start");
      await deployTopology(ctx);
    } else {
      await deployTopology(ctx);
      ctx.rulesBeforeBreak = await iptablesSave(ctx.host);
      await mustStep(ctx.host, ctx.steps, "forwarding off", "sysctl -w net.ipv4.ip_forward=0");
    }
    await tryUserActions(ctx, "forwarding off");
    await captureWarnings(ctx, "forwarding off");
  },
  async retry(ctx) {
    await tryUserActions(ctx, "after fix");
  },
  probes: standardProbes,
};
