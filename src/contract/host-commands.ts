import { HOST_TOOLS_DIR, NFT_BINARY } from "./host-contract.js";

/**
 * The host's own tools (iptables, nft, sysctl, ip) and files (Debian's services, /proc/sys)
 * as scenarios, fixes and the harness's host operations call and name them: spelled here
 * once. test/unit/host-contract.test.ts fails when one is spelled anywhere else.
 */

/** Files of the host's own services, where Debian keeps them. */
export const HOST_FILES = {
  /** iptables-persistent's directory of saved rules */
  savedIptablesRulesDir: "/etc/iptables",
  /** the IPv4 rules iptables-persistent saved and netfilter-persistent restores (iptables-restore) at boot and on reload */
  savedIptablesRules: "/etc/iptables/rules.v4",
  /** what nftables.service loads with `nft -f` at boot and on reload; Debian's default begins with `flush ruleset` */
  nftablesConf: "/etc/nftables.conf",
  dockerConfigDir: "/etc/docker",
  /** dockerd's data root, and the runtime directory: tmpfs in a dind host */
  dockerDataDir: "/var/lib/docker",
  runtimeDir: "/run",
  daemonJson: "/etc/docker/daemon.json",
  firewalldConf: "/etc/firewalld/firewalld.conf",
  firewalldLog: "/var/log/firewalld.log",
  /** where dbus-daemon --system puts its socket */
  dbusRunDir: "/run/dbus",
  /** Debian's alternatives: /usr/sbin/iptables and friends point through here */
  alternativesDir: "/etc/alternatives",
  /** the web roots of a foreign bridge's VM-like namespaces, one directory each */
  namespaceWebRoot: "/srv",
} as const;

/** The iptables the host's own services run (Debian's alternatives decide which build it is). */
export const SYSTEM_IPTABLES = "/usr/sbin/iptables";
/** The iptables commands Debian's alternatives switch together. */
export const SYSTEM_IPTABLES_TOOLS = [
  "iptables",
  "iptables-save",
  "iptables-restore",
  "ip6tables",
  "ip6tables-save",
  "ip6tables-restore",
] as const;
/** The host's own iptables multi-binaries (Debian's iptables package) as a shell glob: what its iptables commands run. */
export const SYSTEM_XTABLES_MULTI = "/usr/sbin/xtables-*-multi";

/** AppArmor in a host: Debian's kernel runs it as its LSM; the apparmor package loads profiles. */
export const APPARMOR = {
  /** "Y" when the kernel runs AppArmor */
  enabledFlag: "/sys/module/apparmor/parameters/enabled",
  /** the loaded profiles, one "name (mode)" a line */
  loadedProfiles: "/sys/kernel/security/apparmor/profiles",
  /** where a profile for /usr/sbin/dockerd is installed (AppArmor names the file after the program's path) */
  dockerdProfileFile: "/etc/apparmor.d/usr.sbin.dockerd",
} as const;

/** An in-host tool (of the fwcompat build) as the alternatives' target. */
export const hostToolPath = (tool: string) => `${HOST_TOOLS_DIR}/${tool}`;

/** The first line of an nft script run as a program. */
export const NFT_SHEBANG = `#!${NFT_BINARY} -f`;

/** Kernel settings scenarios and fixes turn, by sysctl key. */
export const SYSCTL = {
  ipForward: "net.ipv4.ip_forward",
  bridgeNfCallIptables: "net.bridge.bridge-nf-call-iptables",
  bridgeNfCallIp6tables: "net.bridge.bridge-nf-call-ip6tables",
} as const;
export type SysctlKey = (typeof SYSCTL)[keyof typeof SYSCTL];

/** The file under /proc/sys that holds a setting. */
export const sysctlFile = (key: SysctlKey) => `/proc/sys/${key.replaceAll(".", "/")}`;
export const readSysctl = (key: SysctlKey) => `cat ${sysctlFile(key)}`;
/** `sysctl -w key=value ...` (-qw when quiet). */
export const setSysctl = (values: Partial<Record<SysctlKey, string | number>>, options: { quiet?: boolean } = {}) =>
  `sysctl -${options.quiet ? "q" : ""}w ${Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join(" ")}`;

/** iptables as dockerd runs it: waiting for the xtables lock. */
export const iptables = (args: string) => `iptables -w ${args}`;
/** Flushes, then deletes the chains of, each table. */
export const iptablesFlush = (tables: readonly string[]) =>
  tables.map((t) => `${iptables(`-t ${t} -F`)} && ${iptables(`-t ${t} -X`)}`).join(" && ");
/** Prints the loaded rules in iptables-save form. */
export const IPTABLES_SAVE = "iptables-save";
/** Prints the version of the iptables first on PATH. */
export const IPTABLES_VERSION = "iptables --version";
/** Loads a saved rule set; --noflush keeps the rules already there. */
export const iptablesRestore = (file: string, options: { noflush?: boolean } = {}) =>
  `iptables-restore ${options.noflush ? "--noflush " : ""}< ${file}`;
/** Loads an nft script, as nftables.service does. */
export const nftLoad = (file: string) => `nft -f ${file}`;
/** iproute2's `ip`. */
export const ipCommand = (args: string) => `ip ${args}`;
/** What an administrator types to clear every nftables table (an nftables service does it first on each load). */
export const NFT_FLUSH_RULESET = "nft flush ruleset";
/** The table Docker 29's nftables firewall backend keeps its rules in, one per address family. */
export const DOCKER_NFT_TABLES = ["ip docker-bridges", "ip6 docker-bridges"] as const;
/**
 * Makes the host one without the nft binary (as the docker:dind image is): Docker's own nft
 * tables go first (while nft is still there to delete them, as on a host where dockerd never
 * ran with it), then Debian's nft and the tracing shim's link to it, so nothing named nft is
 * left on dockerd's PATH.
 */
export const removeNftBinary = () =>
  [
    ...DOCKER_NFT_TABLES.map((table) => `{ nft delete table ${table} 2>/dev/null || true; }`),
    `rm -f ${NFT_BINARY} ${HOST_TOOLS_DIR}/nft`,
    // the nft deletes above left nft in the shell's command hash, which `command -v` would answer from
    "hash -r",
    `! command -v nft`,
  ].join(" && ");
