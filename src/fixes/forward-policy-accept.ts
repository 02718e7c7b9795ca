import type { Fix } from "../api/index.js";
import { iptables, mustStep } from "../api/index.js";

export const forwardPolicyAccept: Fix = {
  name: "forward-policy-accept",
  description: "iptables -P FORWARD ACCEPT (no restart; dockerd sets DROP again whenever it turns forwarding on)",
  async apply(ctx) {
    await mustStep(ctx.host, ctx.steps, "FORWARD policy ACCEPT", iptables("-P FORWARD ACCEPT"));
    return { applied: true };
  },
};
