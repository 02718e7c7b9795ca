import type { Fix } from "../api/index.js";
import { mustStep, setSysctl, SYSCTL } from "../api/index.js";

export const ipForwardOn: Fix = {
  name: "ip-forward-on",
  description: "sysctl -w net.ipv4.ip_forward=1 (no restart)",
  async apply(ctx) {
    await mustStep(ctx.host, ctx.steps, "forwarding on", setSysctl({ [SYSCTL.ipForward]: 1 }));
    return { applied: true };
  },
};
