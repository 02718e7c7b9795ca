import { iptablesSave, mustStep } from "../src/api/index.js";
import type { Scenario } from "../src/api/index.js";
import { tryUserActions } from "./lib/late-workload.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

const TABLES: Record<string, string[]> = {
  filter: ["filter"],
  "filter+nat": ["filter", "nat"],
  all: ["filter", "nat", "mangle", "raw"],
};

/**
 * Field report 1: a hardening script or firewall template flushes iptables under a
 * running dockerd; then `docker run -p` fails and running containers may lose traffic.
 */
export const flushThenRun: Scenario = {
  name: "flush-then-run",
  variants: Object.keys(TABLES),
  defaultVariant: "filter",
  description: "flush and delete chains (filter | filter+nat | all tables), then docker run -p and docker network create",
  async setUp(ctx, variant) {
    const tables = TABLES[variant ?? ""];
    if (!tables) throw new Error(`flush-then-run has no variant '${variant}'`);
    await deployTopology(ctx);
    ctx.rulesBeforeBreak = await iptablesSave(ctx.host);
    await mustStep(ctx.host, ctx.steps, `flush ${variant}`, tables.map((t) => `iptables -w -t ${t} -F && iptables -w -t ${t} -X`).join(" && "));
    await tryUserActions(ctx, "after flush");
  },
  async retry(ctx) {
    await tryUserActions(ctx, "after fix");
  },
  probes: standardProbes,
};
