import {
  dockerdCommand,
  engineStep,
  matchErrors,
  mustStep,
  readSysctl,
  runStep,
  setSysctl,
  SYSCTL,
  SYSCTL_RELOAD,
  snapshotBeforeBreak,
  writeDistributionSysctl,
} from "../src/api/index.js";
import type { LaterEvent, Scenario, ScenarioContext } from "../src/api/index.js";
import { crossNodeProbes, deployOtherNodes } from "./lib/cluster.js";
import { tryUserActions } from "./lib/late-workload.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

async function captureWarnings(ctx: ScenarioContext, when: string): Promise<void> {
  const info = await runStep(
    ctx.host,
    ctx.steps,
    `${when}: docker info`,
    "docker info 2>&1 | grep -i -E 'warning|forward' || true",
  );
  ctx.errors.push(...matchErrors(`${when}: docker info`, info.stdout));
  await mustStep(ctx.host, ctx.steps, `${when}: ip_forward`, readSysctl(SYSCTL.ipForward));
}

const VARIANTS: [string, ...string[]] = ["before", "after", "after-run", "cross-node"];
const CROSS_NODE = "cross-node";

/** Every kernel-parameter file applied again, the distribution's (forwarding 0) first, /etc/sysctl.conf last. */
async function reloadKernelParameters(ctx: ScenarioContext, name: string): Promise<void> {
  // some settings of the files may not apply in a host; the forwarding it leaves is read next
  await runStep(ctx.host, ctx.steps, name, SYSCTL_RELOAD);
  await mustStep(ctx.host, ctx.steps, `${name}: ip_forward`, readSysctl(SYSCTL.ipForward));
}

const RELOAD: LaterEvent = {
  name: "kernel-parameter reload (sysctl --system; the distribution's file says net.ipv4.ip_forward = 0)",
  happen: (ctx) => reloadKernelParameters(ctx, "kernel-parameter reload"),
};

/**
 * Field report 1, second half: `net.ipv4.ip_forward=0` (a sysctl reload, a hardening
 * template). before: set before dockerd starts. after: set under a running dockerd, then
 * probe with no further Docker action. after-run: the same, then the user's next
 * `docker run -p` / `docker network create` (some engines turn forwarding back on there).
 * cross-node: two nodes routed to each other as flannel's are; node-a's kernel parameters are
 * reloaded under its running dockerd with a distribution file saying 0 (the report: "reloading
 * the kernel parameters makes it unreachable"), and every fix is judged again after the next reload.
 */
export const ipForwardOff: Scenario = {
  name: "ip-forward-off",
  variants: VARIANTS,
  // field report 1: a sysctl reload turns forwarding off under a running dockerd
  defaultVariant: "after",
  description:
    "net.ipv4.ip_forward=0 before dockerd starts, under a running dockerd, under it followed by docker run -p, or on one of two nodes by a kernel-parameter reload",
  minNodes: (variant) => (variant === CROSS_NODE ? 2 : 1),
  laterEvent: (variant) => (variant === CROSS_NODE ? RELOAD : undefined),
  async setUp(ctx, variant) {
    if (!variant || !VARIANTS.includes(variant)) throw new Error(`ip-forward-off has no variant '${variant}'`);
    if (variant === "before") {
      await engineStep(
        ctx.host,
        ctx.steps,
        "forwarding off, restart dockerd",
        `${dockerdCommand("stop")} && ${setSysctl({ [SYSCTL.ipForward]: 0 }, { quiet: true })} && ${dockerdCommand("start")}`,
      );
      await deployTopology(ctx);
    } else if (variant === CROSS_NODE) {
      await Promise.all([deployTopology(ctx), deployOtherNodes(ctx)]);
      await snapshotBeforeBreak(ctx);
      await mustStep(
        ctx.host,
        ctx.steps,
        "the distribution's kernel-parameter file says forwarding off",
        writeDistributionSysctl({ [SYSCTL.ipForward]: 0 }),
      );
      await reloadKernelParameters(ctx, "forwarding off: kernel-parameter reload");
    } else {
      await deployTopology(ctx);
      await snapshotBeforeBreak(ctx);
      await mustStep(ctx.host, ctx.steps, "forwarding off", setSysctl({ [SYSCTL.ipForward]: 0 }));
    }
    if (variant === "before" || variant === "after-run") await tryUserActions(ctx, "forwarding off");
    await captureWarnings(ctx, "forwarding off");
  },
  async retry(ctx, variant) {
    if (variant === "before" || variant === "after-run") await tryUserActions(ctx, "after fix");
  },
  probes: (ctx) => [...standardProbes(ctx), ...crossNodeProbes(ctx)],
};
