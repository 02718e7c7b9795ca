import { compareVersions } from "./versions.js";

/**
 * The one table of which Docker Engine release first has each firewall-related behaviour
 * fwcompat depends on. Nothing else spells an engine version to compare against
 * (test/unit/engine-features.test.ts fails if one reappears).
 */
export const ENGINE_FEATURES = {
  /**
   * per-bridge rules in DOCKER-FORWARD / DOCKER-BRIDGE / DOCKER-CT (28.0.0 itself matched its
   * bridges with the ipset docker-ext-bridges-v4 in FORWARD; 28.0.1 replaced that with these chains)
   */
  forwardChains: "28.0.1",
  /** the raw table's direct-access DROP is one rule per container (`-d ip ! -i bridge`), no longer one per published port */
  directAccessDropPerContainer: "28.2.0",
  /** the `allow-direct-routing` daemon option: no drop of packets from outside the host addressed to a container (a host-gw cluster needs it) */
  allowDirectRouting: "28.2.0",
  /** DOCKER-USER is created empty: no `-j RETURN` rule of Docker's own at its end */
  dockerUserWithoutReturn: "28.2.2",
  /** the `ip-forward-no-drop` daemon option (older engines refuse to start with it) */
  ipForwardNoDrop: "28.0.0",
  /** the nftables firewall backend (experimental there) */
  nftablesBackend: "29.0.0",
  /** the `bridge-accept-fwmark` daemon option: packets with this mark pass the bridges' drop rules (either backend) */
  bridgeAcceptFwmark: "29.0.0",
  /** no DOCKER-ISOLATION chains: isolation is a DROP in DOCKER plus raw-table drops */
  isolationInDockerChain: "29.0.0",
} as const;

export type EngineFeature = keyof typeof ENGINE_FEATURES;

/** Whether an engine of this version has the feature. */
export const engineHas = (engineVersion: string, feature: EngineFeature): boolean =>
  compareVersions(engineVersion, ENGINE_FEATURES[feature]) >= 0;
