import type { Fix, FixStart } from "../api/index.js";
import { unlessNotApplicable } from "./firewall-backend.js";
import {
  dockerdCommand,
  ENGINE_FEATURES,
  engineHas,
  iptables,
  mustStep,
  setSysctl,
  SYSCTL,
  TIMEOUT_MS,
  writeDaemonJson,
} from "../api/index.js";

/**
 * `ip-forward-no-drop: true` in daemon.json, then dockerd started as at the next boot: the
 * FORWARD policy back to the kernel's ACCEPT and forwarding off, so dockerd turns forwarding
 * on itself, which is exactly when it would otherwise set the policy to DROP. (A plain
 * restart proves nothing: with forwarding already on, dockerd leaves the policy alone.)
 */
export const ipForwardNoDrop: Fix = {
  name: "ip-forward-no-drop",
  description: "daemon.json ip-forward-no-drop: true (Docker >= 28), then dockerd started as at the next boot",
  notApplicable,
  apply: unlessNotApplicable(notApplicable, async (ctx) => {
    ctx.current.daemonOptions = { ...ctx.current.daemonOptions, "ip-forward-no-drop": true };
    await writeDaemonJson(ctx.host, ctx.steps, ctx.current.daemonOptions);
    await mustStep(ctx.host, ctx.steps, "stop dockerd", dockerdCommand("stop"));
    await mustStep(
      ctx.host,
      ctx.steps,
      "as at boot: FORWARD ACCEPT, forwarding off",
      `${iptables("-P FORWARD ACCEPT")} && ${setSysctl({ [SYSCTL.ipForward]: 0 }, { quiet: true })}`,
    );
    await mustStep(ctx.host, ctx.steps, "start dockerd", dockerdCommand("start"), TIMEOUT_MS.engineStart);
    return {
      applied: true,
      note: "ip-forward-no-drop set; dockerd started with forwarding off and FORWARD ACCEPT, as after a reboot",
    };
  }),
};

function notApplicable(start: FixStart): string | undefined {
  const version = start.cell.engine.version;
  return engineHas(version, "ipForwardNoDrop")
    ? undefined
    : `Docker ${version} has no ip-forward-no-drop option (added in ${ENGINE_FEATURES.ipForwardNoDrop}; dockerd refuses unknown options)`;
}
