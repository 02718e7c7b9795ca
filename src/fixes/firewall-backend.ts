import type { FixOutcome, ScenarioContext } from "../api/index.js";

/** The firewall backend the host's daemon.json asks for now; dockerd's default is iptables. */
export const configuredFirewallBackend = (ctx: ScenarioContext): "iptables" | "nftables" =>
  ctx.current.daemonOptions["firewall-backend"] === "nftables" ? "nftables" : "iptables";

/**
 * Fixes that act on iptables (another build, the legacy backend, recreated chains) mean
 * nothing to dockerd's nftables backend: it loads its rules with nft, not through iptables.
 */
export function iptablesOnly(ctx: ScenarioContext): Extract<FixOutcome, { applied: false }> | undefined {
  if (configuredFirewallBackend(ctx) !== "nftables") return undefined;
  return {
    applied: false,
    reason:
      "dockerd's nftables firewall backend does not program its rules through iptables (it loads them with nft), so changing iptables cannot change them",
  };
}
