import type { Scenario } from "../src/api/index.js";
import { deployTopology } from "./lib/topology.js";
import { standardProbes } from "./lib/probes.js";

/**
 * Field report 2: published ports time out with several bridge networks. Nothing is broken
 * by hand: the deployment itself is the trigger when `iptables -C` answers wrongly.
 */
export const curlTimeout: Scenario = {
  name: "curl-timeout",
  variants: [],
  description: "default bridge + N user bridges, one published container each; probe every port from every vantage",
  async setUp(ctx) {
    await deployTopology(ctx);
  },
  probes: standardProbes,
};
