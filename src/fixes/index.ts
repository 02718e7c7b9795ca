import type { Fix } from "../api/index.js";
import { ipForwardOn } from "./ip-forward-on.js";
import { iptablesDowngrade } from "./iptables-downgrade.js";
import { iptablesUpgrade } from "./iptables-upgrade.js";
import { recreateDockerChains } from "./recreate-docker-chains.js";
import { restartDockerd } from "./restart-dockerd.js";
import { switchFirewallBackend } from "./switch-firewall-backend.js";
import { switchToLegacy } from "./switch-to-legacy.js";
import { userlandProxyOn } from "./userland-proxy-on.js";

/** Each fix is what an operator would type, applied to the broken host; traffic decides whether it worked. */
export const FIXES: ReadonlyMap<string, Fix> = new Map(
  [restartDockerd, recreateDockerChains, userlandProxyOn, iptablesUpgrade, iptablesDowngrade, switchToLegacy, ipForwardOn, switchFirewallBackend].map((fix) => [fix.name, fix]),
);
