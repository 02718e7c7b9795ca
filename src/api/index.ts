/**
 * Everything a scenario or a fix needs, in one place: the types it implements and the
 * in-host operations it may call. Scenarios (root folder) and fixes (src/fixes) import
 * only from here, so the harness below can change without touching them.
 */
export type {
  ClusterContext,
  Fix,
  FixOutcome,
  FixStart,
  LaterEvent,
  OtherNode,
  Scenario,
  ScenarioContext,
  SingleWayScenario,
  Target,
  VariedScenario,
} from "./scenario.js";
export {
  engineStep,
  EngineRefusal,
  mustStep,
  runStep,
  runSteps,
  shellQuote,
  writeDaemonJson,
  type NamedStep,
} from "../harness/host-ops.js";
export { firewallBackendInForce, iptablesSave } from "../harness/host-reads.js";
export { onNode, variantEntry, variantsOf } from "./scenario.js";
export { snapshotBeforeBreak } from "./snapshot.js";
export { tryUserAction } from "./user-action.js";
export { NFTABLES_CONF, SAVED_IPTABLES_RULES } from "./host-paths.js";
export {
  HOST_FILES,
  ipCommand,
  iptables,
  iptablesFlush,
  iptablesRestore,
  IPTABLES_VERSION,
  nftLoad,
  NFT_FLUSH_RULESET,
  NFT_SHEBANG,
  removeNftBinary,
  readSysctl,
  setSysctl,
  SYSCTL,
  sysctlFile,
  SYSTEM_IPTABLES,
  SYSTEM_IPTABLES_TOOLS,
  SYSTEM_XTABLES_MULTI,
  APPARMOR,
  hostToolPath,
} from "../contract/host-commands.js";
export {
  admitOnlyHostsScript,
  dropMasqueradeScript,
  hostSources,
  IP_FORWARD_READ,
  KEEP_ONLY_NET_SYSCTL_FILES,
  NODE_SERVICE,
  NODE_SERVICE_PATH,
  nodeServiceScript,
  nodeSubnets,
  persistSysctl,
  readdMasqueradeScript,
  SYSCTL_FILES,
  SYSCTL_RELOAD,
  writeDistributionSysctl,
  type NodePlan,
} from "../contract/cluster.js";
export { matchErrors } from "../assertions/error-matchers.js";
export { containerPingCommand, containerProbeCommand, curlCommand, type ProbeSpec } from "../assertions/probe.js";
export { compareVersions } from "../config/versions.js";
export { ENGINE_FEATURES, engineHas } from "../config/engine-features.js";
export type { HostCommand, IptablesBuild, LoadedScenario, UserAction } from "../config/schema.js";
export {
  dockerdCommand,
  IPTABLES_BUILDS_DIR,
  selectIptablesCommand,
  WORKLOAD_ID_PATH,
  WORKLOAD_IMAGE,
} from "../contract/host-contract.js";
export { TIMEOUT_MS } from "../contract/timeouts.js";
export {
  blockLegacyModulesScript,
  kernelLine,
  machineKernelWithoutLegacy,
  parseLegacyModules,
  type KernelCapability,
} from "../contract/kernel-capability.js";
export {
  IPTABLES_SELECTORS,
  parseSelectorPick,
  selectorScript,
  type IptablesSelector,
} from "../contract/iptables-selectors.js";
