import { dockerdCommand, engineStep, removeNftBinary, TIMEOUT_MS } from "../src/api/index.js";
import type { Scenario } from "../src/api/index.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

/**
 * Issue 20, item 5: a host without the nft binary (the docker:dind image has none). Docker
 * 29.6+ programs its nftables backend by running `nft -f -` (moby's static build has no
 * libnftables), and looks the binary up before anything else: with firewall-backend nftables
 * dockerd refuses to start (the cell is `refused`, in dockerd's words); with iptables it starts
 * and the topology is probed as usual.
 */
export const noNft: Scenario = {
  name: "no-nft",
  variants: [],
  description:
    "the nft binary removed from the host, then dockerd restarted: the nftables backend cannot start without it, the iptables backend does not need it",
  async setUp(ctx) {
    await engineStep(
      ctx.host,
      ctx.steps,
      "nft removed, restart dockerd",
      `${dockerdCommand("stop")} && ${removeNftBinary()} && ${dockerdCommand("start")}`,
      TIMEOUT_MS.engineStart,
    );
    await deployTopology(ctx);
  },
  probes: standardProbes,
};
