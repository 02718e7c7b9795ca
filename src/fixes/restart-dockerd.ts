import type { Fix, ScenarioContext } from "../api/index.js";
import { dockerdCommand, engineStep, TIMEOUT_MS } from "../api/index.js";

/** The engine restart every fix that changes iptables or daemon.json ends with; a dockerd that will not come back is an EngineRefusal. */
export const restartDockerdStep = (ctx: ScenarioContext) =>
  engineStep(ctx.host, ctx.steps, "restart dockerd", dockerdCommand("restart"), TIMEOUT_MS.engineRestart);

export const restartDockerd: Fix = {
  name: "restart-dockerd",
  description: "stop and start dockerd in the same network namespace (containers have restart=unless-stopped)",
  async apply(ctx) {
    await restartDockerdStep(ctx);
    return { applied: true };
  },
};
