import { iptablesSave } from "../src/api/index.js";
import type { Scenario } from "../src/api/index.js";
import { createForeignNetwork, foreignProbes } from "./lib/foreign-network.js";
import { beforeDockerd } from "./lib/host-setup.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

/**
 * Another bridge on the same host (libvirt, LXD, Incus): a plain Linux bridge with VM-like
 * namespaces behind it, created before dockerd starts (as at boot) or under a running one.
 * Docker's FORWARD policy must not cut the VMs off from each other or from the network
 * beyond the host, and Docker's own traffic must keep working.
 */
export const foreignBridge: Scenario = {
  name: "foreign-bridge",
  variants: ["before", "after"],
  // libvirt, LXD or Incus installed on a host that already runs Docker
  defaultVariant: "after",
  description:
    "a plain Linux bridge with two VM namespaces and an uplink, created before dockerd starts or under it; VM traffic bridged and routed",
  async setUp(ctx, variant = "after") {
    if (variant === "before") {
      await beforeDockerd(ctx, () => createForeignNetwork(ctx, "create the foreign bridge (before dockerd)"));
      await deployTopology(ctx);
    } else {
      await deployTopology(ctx);
      ctx.rulesBeforeBreak = await iptablesSave(ctx.host);
      await createForeignNetwork(ctx, "create the foreign bridge (under dockerd)");
    }
  },
  probes: (ctx) => [...standardProbes(ctx), ...foreignProbes()],
};
