import { compareVersions } from "./versions.js";

/**
 * The one table of which Docker Engine release first has each firewall-related behaviour
 * fwcompat depends on. Nothing else spells an engine version to compare against
 * (test/unit/engine-features.test.ts fails if one reappears).
 */
export const ENGINE_FEATURES = {
  /** per-bridge rules in DOCKER-FORWARD / DOCKER-BRIDGE / DOCKER-CT */
  forwardChains: "28.0.0",
  /** the `ip-forward-no-drop` daemon option (older engines refuse to start with it) */
  ipForwardNoDrop: "28.0.0",
  /** the nftables firewall backend (experimental there) */
  nftablesBackend: "29.0.0",
  /** no DOCKER-ISOLATION chains: isolation is a DROP in DOCKER plus raw-table drops */
  isolationInDockerChain: "29.0.0",
} as const;

export type EngineFeature = keyof typeof ENGINE_FEATURES;

/** Whether an engine of this version has the feature. */
export const engineHas = (engineVersion: string, feature: EngineFeature): boolean =>
  compareVersions(engineVersion, ENGINE_FEATURES[feature]) >= 0;
