import { HOST_FILES } from "../contract/host-commands.js";

/** Files of the host's own firewall services (HOST_FILES of the contract), by the names scenarios and fixes use. */
export const SAVED_IPTABLES_RULES = HOST_FILES.savedIptablesRules;
export const NFTABLES_CONF = HOST_FILES.nftablesConf;
