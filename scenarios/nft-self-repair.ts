import {
  engineStep,
  mustStep,
  NFT_FLUSH_RULESET,
  snapshotBeforeBreak,
  tryUserAction,
  variantEntry,
  variantsOf,
} from "../src/api/index.js";
import type { ProbeSpec, Scenario, ScenarioContext } from "../src/api/index.js";
import { requireTools } from "./lib/host-setup.js";
import { LATE_CONTAINER, tryLateRun, tryNetworkCreate } from "./lib/late-workload.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

/** An empty network made with the topology, for the user to remove after the flush. */
export const SPARE_NETWORK = "fwc-spare";
const WHEN = "after nft flush ruleset";

/**
 * The user's one action after the flush, each on its own so traffic says which (if any) makes
 * Docker 29's nftables backend put its table back. What moby 29.7.2's source leads one to
 * expect (daemon/libnetwork/internal/nftables: a failed incremental `nft -f` makes dockerd
 * re-create its whole table from memory; its incremental scripts declare every table, map and
 * chain they touch, so after a flush most of them do not fail):
 * - none: nothing answers; isolation between networks is gone.
 * - network-create: succeeds without a reload: the new network's chains come back, no base
 *   chain does, so nothing answers and isolation stays gone.
 * - run-p: succeeds without a reload: raw-PREROUTING (a base chain the new endpoint touches)
 *   comes back with every container's direct-access drop, so isolation returns; the NAT and
 *   forward base chains do not, so neither the old ports nor the new one answer.
 * - network-rm: the removal's `delete element` fails on the emptied map, dockerd reloads its
 *   whole table, and every old port answers again.
 */
const ACTIONS: Record<string, (ctx: ScenarioContext) => Promise<void>> = {
  none: async () => {},
  "network-create": (ctx) => tryNetworkCreate(ctx, WHEN),
  "run-p": (ctx) => tryLateRun(ctx, WHEN),
  "network-rm": async (ctx) => {
    await tryUserAction(ctx, WHEN, "docker network rm", `docker network rm ${SPARE_NETWORK}`);
  },
};

/** Every probe, its target named "old" (the topology's, deployed before the flush) or "new" (the late container). */
export function oldAndNewProbes(ctx: ScenarioContext): ProbeSpec[] {
  return standardProbes(ctx).map((spec) => ({
    ...spec,
    target: `${spec.expectAnswer === LATE_CONTAINER ? "new" : "old"} ${spec.target}`,
  }));
}

/**
 * Issue 20, item 5: `nft flush ruleset` under a running dockerd (Docker 29, nftables firewall
 * backend), then one action of the user's or none, and the published ports probed: which old
 * ones and which new one answer, from each vantage.
 */
export const nftSelfRepair: Scenario = {
  name: "nft-self-repair",
  variants: variantsOf(ACTIONS),
  // the question itself: does anything come back with no action at all
  defaultVariant: "none",
  description:
    "nft flush ruleset under a running dockerd (nftables backend), then nothing, docker network create, docker run -p, or docker network rm: which old and new published ports answer",
  async setUp(ctx, variant) {
    const action = variantEntry("nft-self-repair", ACTIONS, variant);
    await requireTools(ctx, ["nft"]);
    await deployTopology(ctx);
    if (variant === "network-rm")
      await engineStep(ctx.host, ctx.steps, `create ${SPARE_NETWORK}`, `docker network create ${SPARE_NETWORK}`);
    await snapshotBeforeBreak(ctx);
    await mustStep(ctx.host, ctx.steps, NFT_FLUSH_RULESET, NFT_FLUSH_RULESET);
    await action(ctx);
  },
  probes: oldAndNewProbes,
};
