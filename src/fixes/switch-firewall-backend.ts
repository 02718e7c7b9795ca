import type { Fix, FixStart } from "../api/index.js";
import { ENGINE_FEATURES, engineHas, firewallBackendInForce, writeDaemonJson } from "../api/index.js";
import { configuredFirewallBackend, unlessNotApplicable } from "./firewall-backend.js";
import { restartDockerdStep } from "./restart-dockerd.js";

export const switchFirewallBackend: Fix = {
  name: "switch-firewall-backend",
  description: 'set "firewall-backend": "nftables" in daemon.json and restart dockerd (Docker 29+)',
  notApplicable,
  apply: unlessNotApplicable(notApplicable, async (ctx) => {
    ctx.current.daemonOptions = { ...ctx.current.daemonOptions, "firewall-backend": "nftables" };
    await writeDaemonJson(ctx.host, ctx.steps, ctx.current.daemonOptions);
    await restartDockerdStep(ctx);
    return {
      applied: true,
      note: `firewall backend iptables -> nftables; docker info now reports ${(await firewallBackendInForce(ctx.host)) ?? "no backend"}`,
    };
  }),
};

function notApplicable(start: FixStart): string | undefined {
  const engine = start.cell.engine.version;
  if (!engineHas(engine, "nftablesBackend"))
    return `Docker ${engine} has no nftables firewall backend (added in ${ENGINE_FEATURES.nftablesBackend})`;
  return configuredFirewallBackend(start) === "nftables"
    ? "dockerd already uses the nftables firewall backend"
    : undefined;
}
