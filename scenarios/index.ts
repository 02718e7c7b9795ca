import type { Scenario } from "../src/api/index.js";
import { brNetfilterOff } from "./br-netfilter-off.js";
import { curlTimeout } from "./curl-timeout.js";
import { firewallReload } from "./firewall-reload.js";
import { firewalldReload } from "./firewalld-reload.js";
import { flushThenRun } from "./flush-then-run.js";
import { foreignBridge } from "./foreign-bridge.js";
import { ipForwardOff } from "./ip-forward-off.js";
import { secureExec } from "./secure-exec.js";
import { snatLost } from "./snat-lost.js";
import { nftSelfRepair } from "./nft-self-repair.js";
import { noNft } from "./no-nft.js";
import { noLegacyKernel } from "./no-legacy-kernel.js";
import { ufw } from "./ufw.js";

export const SCENARIOS: ReadonlyMap<string, Scenario> = new Map(
  [
    curlTimeout,
    flushThenRun,
    ipForwardOff,
    firewallReload,
    ufw,
    foreignBridge,
    brNetfilterOff,
    firewalldReload,
    secureExec,
    nftSelfRepair,
    noNft,
    noLegacyKernel,
    snatLost,
  ].map((s) => [s.name, s]),
);
