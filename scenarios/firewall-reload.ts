import {
  HOST_FILES,
  iptablesRestore,
  iptablesSave,
  mustStep,
  NFTABLES_CONF,
  nftLoad,
  SAVED_IPTABLES_RULES,
  shellQuote,
  variantEntry,
  variantsOf,
} from "../src/api/index.js";
import type { Scenario } from "../src/api/index.js";
import { requireTools } from "./lib/host-setup.js";
import { tryUserActions } from "./lib/late-workload.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

/**
 * A hardened host's own rules, saved with iptables-save before Docker was installed:
 * nothing in them knows Docker's chains.
 */
const SAVED_RULESET = [
  "*filter",
  ":INPUT DROP [0:0]",
  ":FORWARD DROP [0:0]",
  ":OUTPUT ACCEPT [0:0]",
  "-A INPUT -i lo -j ACCEPT",
  "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
  "-A INPUT -p icmp -j ACCEPT",
  "COMMIT",
  "",
].join("\n");

/** What each firewall service runs at boot or on reload, exactly as its Debian package does. */
const RELOADS: Record<string, { tools: string[]; prepare: string; reload: string }> = {
  // netfilter-persistent's IPv4 plugin: iptables-restore of the saved file, which replaces every table it names.
  "iptables-restore": {
    tools: ["iptables-restore"],
    prepare: `mkdir -p ${HOST_FILES.savedIptablesRulesDir} && printf '%s' ${shellQuote(SAVED_RULESET)} > ${SAVED_IPTABLES_RULES}`,
    reload: iptablesRestore(SAVED_IPTABLES_RULES),
  },
  // nftables.service: `nft -f` of the packaged config, unchanged.
  "nftables-service": {
    tools: ["nft"],
    prepare: `grep -qx 'flush ruleset' ${NFTABLES_CONF} || { echo "${NFTABLES_CONF} does not begin with flush ruleset"; exit 1; }`,
    reload: nftLoad(NFTABLES_CONF),
  },
};

/**
 * A firewall service reloads under a running dockerd: netfilter-persistent restoring a
 * ruleset saved before Docker, or nftables.service loading a config that starts with
 * `flush ruleset`. Then the user's next `docker run -p` and `docker network create`.
 */
export const firewallReload: Scenario = {
  name: "firewall-reload",
  variants: variantsOf(RELOADS),
  // netfilter-persistent restoring rules saved before Docker: the reload most field reports describe
  defaultVariant: "iptables-restore",
  description:
    "a firewall service reload under a running dockerd: iptables-restore of a saved ruleset | nft -f of a config beginning with flush ruleset",
  async setUp(ctx, variant = "iptables-restore") {
    const service = variantEntry("firewall-reload", RELOADS, variant);
    await requireTools(ctx, service.tools);
    await deployTopology(ctx);
    await mustStep(ctx.host, ctx.steps, "the service's saved configuration", service.prepare);
    ctx.rulesBeforeBreak = await iptablesSave(ctx.host);
    await mustStep(ctx.host, ctx.steps, `reload: ${service.reload}`, service.reload);
    await tryUserActions(ctx, "after reload");
  },
  async retry(ctx) {
    await tryUserActions(ctx, "after fix");
  },
  probes: standardProbes,
};
