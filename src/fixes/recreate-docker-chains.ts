import type { Fix } from "../api/index.js";
import { runStep } from "../api/index.js";

export const recreateDockerChains: Fix = {
  name: "recreate-docker-chains",
  description: "the field report's advice: create the DOCKER chain in filter and nat, nothing else",
  async apply(ctx) {
    await runStep(ctx.host, ctx.steps, "create DOCKER chains", "iptables -w -t filter -N DOCKER; iptables -w -t nat -N DOCKER; true");
    return { applied: true };
  },
};
