import type { Fix } from "../api/index.js";
import { iptablesOnly } from "./firewall-backend.js";
import { iptables, runStep } from "../api/index.js";

export const recreateDockerChains: Fix = {
  name: "recreate-docker-chains",
  description: "the field report's advice: create the DOCKER chain in filter and nat, nothing else",
  async apply(ctx) {
    const moot = iptablesOnly(ctx);
    if (moot) return moot;
    await runStep(
      ctx.host,
      ctx.steps,
      "create DOCKER chains",
      `${iptables("-t filter -N DOCKER")}; ${iptables("-t nat -N DOCKER")}; true`,
    );
    return { applied: true };
  },
};
