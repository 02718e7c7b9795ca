import {
  dockerdCommand,
  engineStep,
  matchErrors,
  mustStep,
  readSysctl,
  runStep,
  setSysctl,
  SYSCTL,
  snapshotBeforeBreak,
} from "../src/api/index.js";
import type { Scenario, ScenarioContext } from "../src/api/index.js";
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

const VARIANTS: [string, ...string[]] = ["before", "after", "after-run"];

/**
 * Field report 1, second half: `net.ipv4.ip_forward=0` (a sysctl reload, a hardening
 * template). before: set before dockerd starts. after: set under a running dockerd, then
 * probe with no further Docker action. after-run: the same, then the user's next
 * `docker run -p` / `docker network create` (some engines turn forwarding back on there).
 */
export const ipForwardOff: Scenario = {
  name: "ip-forward-off",
  variants: VARIANTS,
  // field report 1: a sysctl reload turns forwarding off under a running dockerd
  defaultVariant: "after",
  description:
    "net.ipv4.ip_forward=0 before dockerd starts, under a running dockerd, or under it followed by docker run -p",
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
    } else {
      await deployTopology(ctx);
      await snapshotBeforeBreak(ctx);
      await mustStep(ctx.host, ctx.steps, "forwarding off", setSysctl({ [SYSCTL.ipForward]: 0 }));
    }
    if (variant !== "after") await tryUserActions(ctx, "forwarding off");
    await captureWarnings(ctx, "forwarding off");
  },
  async retry(ctx, variant) {
    if (variant !== "after") await tryUserActions(ctx, "after fix");
  },
  probes: standardProbes,
};
