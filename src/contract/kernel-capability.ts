/**
 * Whether the kernel a host runs on has the legacy xtables tables and nf_tables: the script a
 * host runs to tell (key=value lines), and how its answer reads. A dind host runs on this
 * machine's kernel, a VM on its guest kernel; either way it is read from inside the host,
 * never from the machine's own firewall.
 */
import { buildBinDir, IPTABLES_BUILDS_DIR, keyValueEntries } from "./host-contract.js";

/** How a kernel has a feature: compiled in, a module (loaded or loadable), absent (cannot be had), or unknown (nothing could tell). */
export const KERNEL_SUPPORT = ["builtin", "module", "absent", "unknown"] as const;
export type KernelSupport = (typeof KERNEL_SUPPORT)[number];

export interface KernelCapability {
  release: string;
  legacyXtables: KernelSupport;
  nfTables: KernelSupport;
  /** one line: what was read (config, loaded modules, the table lists, the two tries) */
  detail: string;
}

/** The legacy xtables modules (IPv4, IPv6, ARP and bridge tables). nft_compat's x_tables and xt_* matches stay: iptables-nft needs them. */
export const LEGACY_XTABLES_MODULES = [
  "ip_tables",
  "iptable_filter",
  "iptable_nat",
  "iptable_mangle",
  "iptable_raw",
  "iptable_security",
  "ip6_tables",
  "ip6table_filter",
  "ip6table_nat",
  "ip6table_mangle",
  "ip6table_raw",
  "ip6table_security",
  "arp_tables",
  "arptable_filter",
  "ebtables",
  "ebtable_filter",
  "ebtable_nat",
  "ebtable_broute",
] as const;

/** Where a kernel lists the legacy tables of the reader's network namespace (exists only while ip_tables is in the kernel). */
export const LEGACY_TABLE_LISTS = ["ip_tables_names", "ip6_tables_names", "arp_tables_names"] as const;
export const PROC_NET = "/proc/net";
const PROC_MODULES = "/proc/modules";
/** Where the running kernel's modules are (the guest's own tree: removing files there touches only the disposable VM). */
const MODULE_TREE = "/lib/modules/$(uname -r)";

const CONFIG_KEYS = [
  "CONFIG_NETFILTER_XTABLES_LEGACY",
  "CONFIG_IP_NF_IPTABLES_LEGACY",
  "CONFIG_IP_NF_IPTABLES",
  "CONFIG_NF_TABLES",
] as const;

/** The first iptables of a backend the host carries: the given build's, else any build's. */
const firstTool = (backend: "nft" | "legacy", build: { name: string } | undefined) =>
  [
    ...(build ? [`${buildBinDir(build, backend)}/iptables`] : []),
    `${IPTABLES_BUILDS_DIR}/*/bin-${backend}/iptables`,
  ].join(" ");

/**
 * Prints release=, config=<file>, config.<KEY>=y|m|n, modules=<loaded netfilter modules>,
 * tables=<which legacy table lists exist>, legacyTry= and nftTry= (ok, or the first line of
 * iptables' error). Each try lists the nat table in a network namespace of its own, so no table is
 * created where the cell runs; on a kernel with loadable modules it may load them.
 */
export function kernelCapabilityScript(build?: { name: string }): string {
  return `release=$(uname -r); echo "release=$release"
cfg=; if [ -r /proc/config.gz ]; then cfg=/proc/config.gz; elif [ -r "/boot/config-$release" ]; then cfg="/boot/config-$release"; fi
echo "config=\${cfg:-none}"
if [ -n "$cfg" ]; then
  case "$cfg" in *.gz) gzip -dc "$cfg" ;; *) cat "$cfg" ;; esac 2>/dev/null |
    sed -n -E 's/^(${CONFIG_KEYS.join("|")})=([ym])$/config.\\1=\\2/p; s/^# (${CONFIG_KEYS.join("|")}) is not set$/config.\\1=n/p'
fi
tables=; for t in ${LEGACY_TABLE_LISTS.join(" ")}; do [ -e ${PROC_NET}/$t ] && tables="$tables $t"; done
echo "tables=\${tables# }"
try() {
  for tool in $2; do [ -x "$tool" ] || continue
    out=$(timeout 8 unshare -n "$tool" -w -t nat -L -n 2>&1 >/dev/null) && { echo "$1=ok"; return; }
    # iptables' own words, not the modprobe it ran first (its line comes before them)
    line=$(printf '%s' "$out" | grep -v '^modprobe: ' | head -n 1)
    echo "$1=\${line:-$(printf '%s' "$out" | head -n 1)}"; return
  done
  echo "$1=no $3 iptables in this host"
}
try legacyTry "${firstTool("legacy", build)}" legacy
try nftTry "${firstTool("nft", build)}" nf_tables
echo "modules=$(cut -d' ' -f1 ${PROC_MODULES} 2>/dev/null | grep -E '^(x_tables|nf_tables|${LEGACY_XTABLES_MODULES.join("|")})$' | sort | tr '\\n' ' ')"`;
}

/** What a failed try says when the kernel lacks the tables (rather than e.g. a missing privilege). */
const LACKS_TABLES =
  /Table does not exist|iptables who\?|Protocol not supported|Address family not supported|Could not fetch rule set generation id/;

type Config = "y" | "m" | "n" | undefined;

function classify(config: Config, tried: string | undefined, loadedModule: boolean): KernelSupport {
  if (tried === "ok") return config === "y" || (config === undefined && !loadedModule) ? "builtin" : "module";
  if (tried && LACKS_TABLES.test(tried)) return "absent";
  // not tried (no such iptables, no unshare): the configuration alone
  if (config === "y") return "builtin";
  if (config === "m") return "module";
  if (config === "n") return "absent";
  return "unknown";
}

/** Reads kernelCapabilityScript's output; anything it could not tell is "unknown", never a guess. */
export function parseKernelCapability(output: string): KernelCapability {
  const entries = keyValueEntries(output);
  const one = (key: string) => entries.get(key)?.[0]?.trim();
  const config = (key: (typeof CONFIG_KEYS)[number]) => one(`config.${key}`) as Config;
  const modules = new Set((one("modules") ?? "").split(/\s+/).filter(Boolean));
  // 6.17+ names the whole legacy layer; earlier kernels name the IPv4 tables (6.9+: _LEGACY), before that ip_tables itself
  const legacyConfig =
    config("CONFIG_NETFILTER_XTABLES_LEGACY") ??
    config("CONFIG_IP_NF_IPTABLES_LEGACY") ??
    config("CONFIG_IP_NF_IPTABLES");
  const legacyTry = one("legacyTry");
  const nftTry = one("nftTry");
  const detail = [
    `config ${one("config") ?? "none"}${legacyConfig ? ` (legacy=${legacyConfig}, nf_tables=${config("CONFIG_NF_TABLES") ?? "?"})` : ""}`,
    `legacy table lists: ${one("tables") || "none"}`,
    `iptables-legacy -t nat -L -n: ${legacyTry ?? "not tried"}`,
    `iptables-nft -t nat -L -n: ${nftTry ?? "not tried"}`,
    `modules loaded: ${[...modules].join(" ") || "none"}`,
  ].join("; ");
  return {
    release: one("release") || "unknown",
    legacyXtables: classify(legacyConfig, legacyTry, modules.has("ip_tables")),
    nfTables: classify(config("CONFIG_NF_TABLES"), nftTry, modules.has("nf_tables")),
    detail,
  };
}

/** One line for a report: "6.12.57+deb13-amd64: legacy xtables module, nf_tables module". */
export const kernelLine = (k: KernelCapability): string =>
  `${k.release}: legacy xtables ${k.legacyXtables}, nf_tables ${k.nfTables}`;

/**
 * Why legacy iptables cannot run on this machine's kernel (the one every dind host shares, read
 * in a host container), else undefined: it has no legacy xtables tables.
 */
export function machineKernelWithoutLegacy(kernel: KernelCapability | undefined): string | undefined {
  if (kernel?.legacyXtables !== "absent") return undefined;
  return `this machine's kernel (${kernelLine(kernel)}, read in a host container) has no legacy xtables tables`;
}

/**
 * Makes the guest a kernel without the legacy xtables modules: their files are removed from its
 * module tree and modules.dep rebuilt, so modprobe answers "not found" and iptables-legacy
 * "Table does not exist", as on a kernel built without CONFIG_IP_NF_IPTABLES_LEGACY. (A modprobe.d
 * `install <module> /bin/false` instead gives another error, "Error running install command", which
 * no legacy-free kernel prints.) Then prints `loaded=` the ones still in the kernel after trying to
 * remove them: a saved VM restored from memory keeps what was loaded when it was saved.
 */
export function blockLegacyModulesScript(): string {
  const names = LEGACY_XTABLES_MODULES.map((m) => `-name '${m}.ko*'`).join(" -o ");
  const pattern = LEGACY_XTABLES_MODULES.join("|");
  return `loaded() { cut -d' ' -f1 ${PROC_MODULES} 2>/dev/null | grep -E '^(${pattern})$' | tr '\\n' ' '; }
before=$(loaded)
[ -z "$before" ] || modprobe -r $before 2>/dev/null || rmmod $before 2>/dev/null || :
files=$(find ${MODULE_TREE} \\( ${names} \\) -type f)
[ -z "$files" ] || rm -f $files
depmod -a
echo "removed-files=$(echo $files | wc -w)"
echo "loaded-before=$before"
echo "loaded=$(loaded)"`;
}

/** What blockLegacyModulesScript printed: the legacy modules loaded before, and those still loaded after trying to remove them. */
export function parseLegacyModules(output: string): { before: string[]; after: string[] } {
  const entries = keyValueEntries(output);
  const list = (key: string) => (entries.get(key)?.[0] ?? "").split(/\s+/).filter(Boolean);
  return { before: list("loaded-before"), after: list("loaded") };
}
