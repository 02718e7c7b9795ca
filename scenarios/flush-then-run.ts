import {
  iptablesFlush,
  mustStep,
  NFT_SHEBANG,
  NFTABLES_CONF,
  nftLoad,
  snapshotBeforeBreak,
  variantEntry,
  variantsOf,
} from "../src/api/index.js";
import type { Scenario } from "../src/api/index.js";
import { tryUserActions } from "./lib/late-workload.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

/** Debian's stock /etc/nftables.conf: what `systemctl restart nftables` loads (flush ruleset first). */
export const NFTABLES_SERVICE_CONF = [
  NFT_SHEBANG,
  "flush ruleset",
  "table inet filter {",
  "\tchain input { type filter hook input priority filter; }",
  "\tchain forward { type filter hook forward priority filter; }",
  "\tchain output { type filter hook output priority filter; }",
  "}",
].join("\n");

/** The breakage per variant: iptables flushes of some tables, or an nftables service (re)start. */
const FLUSHES: Record<string, { step: string; script: string }> = {
  filter: { step: "flush filter", script: iptablesFlush(["filter"]) },
  "filter+nat": { step: "flush filter+nat", script: iptablesFlush(["filter", "nat"]) },
  all: { step: "flush all", script: iptablesFlush(["filter", "nat", "mangle", "raw"]) },
  "nft-flush-ruleset": {
    step: `nftables service restart (${nftLoad(NFTABLES_CONF)}: flush ruleset, then its own inet filter table)`,
    script: `printf '%s\\n' '${NFTABLES_SERVICE_CONF}' > ${NFTABLES_CONF} && ${nftLoad(NFTABLES_CONF)}`,
  },
};

/**
 * Field report 1: a hardening script or firewall template flushes iptables under a
 * running dockerd, or an nftables service restart flushes the whole ruleset; then
 * `docker run -p` and `docker network create` are tried and running containers probed.
 */
export const flushThenRun: Scenario = {
  name: "flush-then-run",
  variants: variantsOf(FLUSHES),
  // field report 1: a hardening script flushes the filter table under a running dockerd
  defaultVariant: "filter",
  description:
    "flush and delete chains (filter | filter+nat | all tables) or nft flush ruleset + a minimal ruleset (nft-flush-ruleset), then docker run -p and docker network create",
  async setUp(ctx, variant) {
    const flush = variantEntry("flush-then-run", FLUSHES, variant);
    await deployTopology(ctx);
    await snapshotBeforeBreak(ctx);
    await mustStep(ctx.host, ctx.steps, flush.step, flush.script);
    await tryUserActions(ctx, "after flush");
  },
  async retry(ctx) {
    await tryUserActions(ctx, "after fix");
  },
  probes: standardProbes,
};
