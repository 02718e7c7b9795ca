import type { Fix, FixStart } from "../api/index.js";

/** The firewall backend the host's daemon.json asks for now; dockerd's default is iptables. */
export const configuredFirewallBackend = (ctx: Pick<FixStart, "current">): "iptables" | "nftables" =>
  ctx.current.daemonOptions["firewall-backend"] === "nftables" ? "nftables" : "iptables";

/**
 * Fixes that act on iptables (another build, the legacy backend, recreated chains) mean
 * nothing to dockerd's nftables backend: it loads its rules with nft, not through iptables.
 */
export function iptablesOnly(ctx: Pick<FixStart, "current">): string | undefined {
  if (configuredFirewallBackend(ctx) !== "nftables") return undefined;
  return "dockerd's nftables firewall backend does not program its rules through iptables (it loads them with nft), so changing iptables cannot change them";
}

/** A fix's apply as its notApplicable check says first, then the work. */
export const unlessNotApplicable =
  (notApplicable: (start: FixStart) => string | undefined, work: Fix["apply"]): Fix["apply"] =>
  async (ctx) => {
    const reason = notApplicable(ctx);
    return reason ? { applied: false, reason } : work(ctx);
  };
