import { dropMasqueradeScript, mustStep, snapshotBeforeBreak } from "../src/api/index.js";
import type { Scenario } from "../src/api/index.js";
import { admitOnlyHostsOnOtherNodes, crossNodeProbes, deployOtherNodes } from "./lib/cluster.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

/**
 * Field report 1, the SNAT paragraph: Docker's `POSTROUTING -s <subnet> ! -o docker0 -j
 * MASQUERADE` makes container traffic leave with the host's address. The other nodes admit
 * only the hosts' network (a hardening template on node-b); node-a then loses its masquerade
 * rules (a firewall template without them, as after a nat flush that leaves the rest). Its
 * containers' traffic reaches the other nodes with container addresses and is dropped there;
 * everything on node-a itself keeps working.
 */
export const snatLost: Scenario = {
  name: "snat-lost",
  variants: [],
  description: "two nodes; node-b admits only the hosts' network, node-a loses the MASQUERADE of its container subnets",
  minNodes: () => 2,
  async setUp(ctx) {
    await Promise.all([deployTopology(ctx), deployOtherNodes(ctx)]);
    await admitOnlyHostsOnOtherNodes(ctx);
    await snapshotBeforeBreak(ctx);
    await mustStep(
      ctx.host,
      ctx.steps,
      "node-a loses its MASQUERADE rules",
      dropMasqueradeScript(ctx.current.daemonOptions["firewall-backend"] === "nftables"),
    );
  },
  probes: (ctx) => [...standardProbes(ctx), ...crossNodeProbes(ctx)],
};
