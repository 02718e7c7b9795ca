import type { Fix } from "../api/index.js";
import { mustStep, readSysctl, setSysctl, SYSCTL } from "../api/index.js";

export const brNetfilterOn: Fix = {
  name: "br-netfilter-on",
  description: "sysctl -w net.bridge.bridge-nf-call-iptables=1 (and ip6tables), no restart",
  async apply(ctx) {
    const now = await mustStep(
      ctx.host,
      ctx.steps,
      "bridge-nf-call-iptables now",
      readSysctl(SYSCTL.bridgeNfCallIptables),
    );
    if (now.stdout.trim() === "1") return { applied: false, reason: "bridge-nf-call-iptables is already 1" };
    await mustStep(
      ctx.host,
      ctx.steps,
      "bridge-nf-call-iptables on",
      setSysctl({ [SYSCTL.bridgeNfCallIptables]: 1, [SYSCTL.bridgeNfCallIp6tables]: 1 }),
    );
    return { applied: true };
  },
};
