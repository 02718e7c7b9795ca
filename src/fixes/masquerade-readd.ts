import type { Fix } from "../api/index.js";
import { mustStep, readdMasqueradeScript } from "../api/index.js";
import { configuredFirewallBackend } from "./firewall-backend.js";

/**
 * Puts back the masquerade of each container network the scenario deployed (subnet and
 * bridge as the engine reported them), without restarting dockerd.
 */
export const masqueradeReadd: Fix = {
  name: "masquerade-readd",
  description: "the MASQUERADE of each container subnet added again (iptables -t nat -A POSTROUTING, or an nft table)",
  async apply(ctx) {
    const networks = [...new Map(ctx.targets.map((t) => [t.subnet, { subnet: t.subnet, bridge: t.bridge }])).values()];
    if (networks.length === 0) return { applied: false, reason: "the scenario deployed no container network" };
    const nftables = configuredFirewallBackend(ctx) === "nftables";
    await mustStep(ctx.host, ctx.steps, "add the MASQUERADE rules again", readdMasqueradeScript(networks, nftables));
    return { applied: true, note: nftables ? "in an nft table of the operator's own" : "in nat POSTROUTING" };
  },
};
