import type { Fix } from "../api/index.js";
import { ENGINE_FEATURES, engineHas, firewallBackendInForce, writeDaemonJson } from "../api/index.js";
import { configuredFirewallBackend } from "./firewall-backend.js";
import { restartDockerdStep } from "./restart-dockerd.js";

export const switchFirewallBackend: Fix = {
  name: "switch-firewall-backend",
  description: 'set "firewall-backend": "nftables" in daemon.json and restart dockerd (Docker 29+)',
  async apply(ctx) {
    const engine = ctx.cell.engine.version;
    if (!engineHas(engine, "nftablesBackend")) {
      return {
        applied: false,
        reason: `Docker ${engine} has no nftables firewall backend (added in ${ENGINE_FEATURES.nftablesBackend})`,
      };
    }
    if (configuredFirewallBackend(ctx) === "nftables")
      return { applied: false, reason: "dockerd already uses the nftables firewall backend" };
    ctx.current.daemonOptions = { ...ctx.current.daemonOptions, "firewall-backend": "nftables" };
    await writeDaemonJson(ctx.host, ctx.steps, ctx.current.daemonOptions);
    await restartDockerdStep(ctx);
    return {
      applied: true,
      note: `firewall backend iptables -> nftables; docker info now reports ${(await firewallBackendInForce(ctx.host)) ?? "no backend"}`,
    };
  },
};
