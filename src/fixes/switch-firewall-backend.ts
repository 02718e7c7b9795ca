import type { Fix } from "../api/index.js";
import { compareVersions, firewallBackendInForce, writeDaemonJson } from "../api/index.js";
import { configuredFirewallBackend } from "./firewall-backend.js";
import { restartDockerdStep } from "./restart-dockerd.js";

/** The first engine release with the nftables firewall backend (experimental there). */
export const NFTABLES_BACKEND_SINCE = "29.0.0";

export const switchFirewallBackend: Fix = {
  name: "switch-firewall-backend",
  description: 'set "firewall-backend": "nftables" in daemon.json and restart dockerd (Docker 29+)',
  async apply(ctx) {
    const engine = ctx.cell.engine.version;
    if (compareVersions(engine, NFTABLES_BACKEND_SINCE) < 0) {
      return { applied: false, reason: `Docker ${engine} has no nftables firewall backend (added in ${NFTABLES_BACKEND_SINCE})` };
    }
    if (configuredFirewallBackend(ctx) === "nftables") return { applied: false, reason: "dockerd already uses the nftables firewall backend" };
    ctx.current.daemonOptions = { ...ctx.current.daemonOptions, "firewall-backend": "nftables" };
    await writeDaemonJson(ctx.host, ctx.steps, ctx.current.daemonOptions);
    await restartDockerdStep(ctx);
    return { applied: true, note: `firewall backend iptables -> nftables; docker info now reports ${(await firewallBackendInForce(ctx.host)) ?? "no backend"}` };
  },
};
