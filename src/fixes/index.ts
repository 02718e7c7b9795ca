import type { Fix } from "../api/index.js";
import { brNetfilterOn } from "./br-netfilter-on.js";
import { dockerUserAccept } from "./docker-user-accept.js";
import { forwardPolicyAccept } from "./forward-policy-accept.js";
import { ipForwardNoDrop } from "./ip-forward-no-drop.js";
import { ipForwardOn } from "./ip-forward-on.js";
import { ipForwardPersist } from "./ip-forward-persist.js";
import { iptablesDowngrade } from "./iptables-downgrade.js";
import { iptablesRestoreNoflush } from "./iptables-restore-noflush.js";
import { iptablesUpgrade } from "./iptables-upgrade.js";
import { masqueradeReadd } from "./masquerade-readd.js";
import { nftablesFlushOwnTable } from "./nftables-flush-own-table.js";
import { recreateDockerChains } from "./recreate-docker-chains.js";
import { restartDockerd } from "./restart-dockerd.js";
import { switchFirewallBackend } from "./switch-firewall-backend.js";
import { switchToLegacy } from "./switch-to-legacy.js";
import { ufwDockerUser } from "./ufw-docker-user.js";
import { userlandProxyOn } from "./userland-proxy-on.js";

/** Each fix is what an operator would type, applied to the broken host; traffic decides whether it worked. */
export const FIXES: ReadonlyMap<string, Fix> = new Map(
  [
    restartDockerd,
    recreateDockerChains,
    userlandProxyOn,
    iptablesUpgrade,
    iptablesDowngrade,
    switchToLegacy,
    ipForwardOn,
    iptablesRestoreNoflush,
    nftablesFlushOwnTable,
    dockerUserAccept,
    forwardPolicyAccept,
    ipForwardNoDrop,
    ufwDockerUser,
    brNetfilterOn,
    switchFirewallBackend,
    ipForwardPersist,
    masqueradeReadd,
  ].map((fix) => [fix.name, fix]),
);
