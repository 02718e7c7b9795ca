import type { Fix } from "../api/index.js";
import { iptablesOnly, unlessNotApplicable } from "./firewall-backend.js";
import { iptables, runStep } from "../api/index.js";

export const recreateDockerChains: Fix = {
  name: "recreate-docker-chains",
  description: "the field report's advice: create the DOCKER chain in filter and nat, nothing else",
  notApplicable: iptablesOnly,
  apply: unlessNotApplicable(iptablesOnly, async (ctx) => {
    await runStep(
      ctx.host,
      ctx.steps,
      "create DOCKER chains",
      `${iptables("-t filter -N DOCKER")}; ${iptables("-t nat -N DOCKER")}; true`,
    );
    return { applied: true };
  }),
};
