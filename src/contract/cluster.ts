import { HOST_FILES, ipCommand, iptables, IPTABLES_SAVE, nftLoad, readSysctl, SYSCTL } from "./host-commands.js";

/**
 * The hosts of one multi-node cell as a small cluster, the way flannel joins nodes: each node's
 * dockerd gets container subnets of its own (bip and default-address-pools), and every node
 * routes the other nodes' subnets to them, either straight through the run network (host-gw)
 * or through a VXLAN device with static neighbours (flannel's vxlan backend). The address
 * plan and the commands are spelled here once; src/run/cluster.ts runs them.
 */

/** How the nodes reach each other's container subnets. */
export const NODE_NETWORKS = ["vxlan", "host-gw"] as const;
export type NodeNetwork = (typeof NODE_NETWORKS)[number];

/** The most nodes a cell may have: each takes two blocks of 10.77-10.84 (see nodePlan). */
export const MAX_NODES = 4;

/** Where a node's Docker puts its containers, and what the other nodes route to it. */
export interface NodePlan {
  index: number;
  /** node-a, node-b, … */
  name: string;
  /** docker0's address and prefix (daemon.json bip) */
  bip: string;
  /** docker0's subnet */
  bridgeSubnet: string;
  /** the pool user networks come from (daemon.json default-address-pools, /24 each) */
  pool: string;
  /** the address of the node's VXLAN device: its bridge subnet's network address, as flannel gives it */
  vtep: string;
  /** a fixed MAC for the VXLAN device, so every node knows every other's without asking */
  vtepMac: string;
}

const octet = (index: number, block: 0 | 1) => 77 + 2 * index + block;

/**
 * Node `index`'s plan: docker0 in 10.(77+2i).0.0/24 and user networks from 10.(78+2i).0.0/16.
 * Node 0 keeps the single host's addresses (src/harness/host-ops.ts INNER_ADDRESSES), so its
 * rules read as a one-node cell's do; nothing reaches 10.98/10.99, the foreign bridge's.
 */
export function nodePlan(index: number): NodePlan {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_NODES)
    throw new Error(`a cell has at most ${MAX_NODES} nodes (node index ${index})`);
  const bridge = octet(index, 0);
  return {
    index,
    name: `node-${String.fromCharCode(97 + index)}`,
    bip: `10.${bridge}.0.1/24`,
    bridgeSubnet: `10.${bridge}.0.0/24`,
    pool: `10.${octet(index, 1)}.0.0/16`,
    vtep: `10.${bridge}.0.0`,
    vtepMac: `02:fc:00:00:00:${(index + 1).toString(16).padStart(2, "0")}`,
  };
}

/** Every container subnet of a node. */
export const nodeSubnets = (plan: NodePlan): string[] => [plan.bridgeSubnet, plan.pool];

/** The daemon.json entries that give a node its subnets. */
export const nodeAddressOptions = (plan: NodePlan) => ({
  bip: plan.bip,
  "default-address-pools": [{ base: plan.pool, size: 24 }],
});

/** A CIDR as its first address (a 32-bit number) and prefix length. */
function parseCidr(cidr: string): { base: number; prefix: number } {
  const [address = "", prefixText = "32"] = cidr.split("/");
  const parts = address.split(".").map(Number);
  const prefix = Number(prefixText);
  if (
    parts.length !== 4 ||
    parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255) ||
    !(prefix >= 0 && prefix <= 32)
  )
    throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const value = parts.reduce((n, p) => n * 256 + p, 0);
  const size = 2 ** (32 - prefix);
  return { base: value - (value % size), prefix };
}

/** Whether two IPv4 CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  const end = (c: { base: number; prefix: number }) => c.base + 2 ** (32 - c.prefix);
  return x.base < end(y) && y.base < end(x);
}

/** A node as the others see it: its plan and its address on the run network. */
export interface ClusterMember {
  plan: NodePlan;
  address: string;
}

export interface ClusterRoute {
  subnet: string;
  /** the next hop: the other node's run-network address (host-gw) or its VXLAN address (vxlan) */
  via: string;
  /** the VXLAN device, for a route through the overlay */
  dev?: string;
}

/** The VXLAN device every node creates (flannel's is flannel.1; VNI 1 and port 8472 as flannel's). */
export const OVERLAY = { device: "fwc-vxlan0", vni: 1, port: 8472 } as const;

/** The routes node `self` needs to every other node's container subnets. */
export function clusterRoutes(members: readonly ClusterMember[], self: number, network: NodeNetwork): ClusterRoute[] {
  return members
    .filter((m) => m.plan.index !== self)
    .flatMap((m) =>
      nodeSubnets(m.plan).map((subnet) =>
        network === "host-gw" ? { subnet, via: m.address } : { subnet, via: m.plan.vtep, dev: OVERLAY.device },
      ),
    );
}

/**
 * The script that joins node `self` to the others: the VXLAN device and its static neighbours
 * (vxlan), then a route to each other node's subnets. Run on every node once all have an address.
 */
export function joinClusterScript(members: readonly ClusterMember[], self: number, network: NodeNetwork): string {
  const me = members.find((m) => m.plan.index === self);
  if (!me) throw new Error(`node ${self} is not a member of the cluster`);
  const others = members.filter((m) => m.plan.index !== self);
  const { device, vni, port } = OVERLAY;
  const overlay =
    network === "vxlan"
      ? [
          ipCommand(
            `link add ${device} address ${me.plan.vtepMac} type vxlan id ${vni} local ${me.address} dev ${UPLINK} dstport ${port} nolearning`,
          ),
          ipCommand(`addr add ${me.plan.vtep}/32 dev ${device}`),
          ipCommand(`link set ${device} up`),
          ...others.flatMap((m) => [
            ipCommand(`neigh replace ${m.plan.vtep} lladdr ${m.plan.vtepMac} dev ${device} nud permanent`),
            `bridge fdb append ${m.plan.vtepMac} dev ${device} dst ${m.address}`,
          ]),
        ]
      : [];
  const routes = clusterRoutes(members, self, network).map((r) =>
    ipCommand(`route replace ${r.subnet} via ${r.via}${r.dev ? ` dev ${r.dev} onlink` : ""}`),
  );
  return [...overlay, ...routes].join(" && ");
}

/** The host's interface on the run network (a dind host has one network: eth0). */
export const UPLINK = "eth0";

/** The interfaces traffic from other nodes arrives on. */
export const clusterInterfaces = (network: NodeNetwork): string[] =>
  network === "vxlan" ? [UPLINK, OVERLAY.device] : [UPLINK];

/** The mark Docker 29's bridge-accept-fwmark lets through its drop rules (either backend). */
export const CLUSTER_ACCEPT_MARK = "0x1f00";

/**
 * What a cluster's network agent adds so other nodes reach this node's containers by address
 * (flannel's own FORWARD accepts for the pod network): with Docker's iptables backend, an
 * ACCEPT in DOCKER-USER for packets from the other nodes towards this node's subnets; with the
 * nftables backend (no DOCKER-USER), a mark on them that daemon.json's bridge-accept-fwmark
 * accepts.
 */
export function clusterAdmissionScript(plan: NodePlan, network: NodeNetwork, nftablesBackend: boolean): string {
  const subnets = nodeSubnets(plan);
  const interfaces = clusterInterfaces(network);
  if (!nftablesBackend)
    return interfaces
      .flatMap((i) => subnets.map((s) => iptables(`-I DOCKER-USER -i ${i} -d ${s} -j ACCEPT`)))
      .join(" && ");
  const table = [
    "table ip fwc-cluster {",
    "  chain fwc_admit {",
    "    type filter hook prerouting priority mangle;",
    `    iifname { ${interfaces.map((i) => `"${i}"`).join(", ")} } ip daddr { ${subnets.join(", ")} } meta mark set meta mark or ${CLUSTER_ACCEPT_MARK}`,
    "  }",
    "}",
  ].join("\n");
  return nftScript(table);
}

/** Loads an nft script given inline (nft -f reading a here-document). */
const nftScript = (text: string) => `${nftLoad("-")} <<'FWC_NFT'\n${text}\nFWC_NFT`;

/** A service on a node's host itself (not in a container): busybox httpd answering its node's name. */
export const NODE_SERVICE = { port: 7000, webRoot: `${HOST_FILES.namespaceWebRoot}/fwc-node` } as const;

export const nodeServiceScript = (plan: NodePlan) =>
  `mkdir -p ${NODE_SERVICE.webRoot} && echo ${plan.name} > ${NODE_SERVICE.webRoot}/id && busybox httpd -p ${NODE_SERVICE.port} -h ${NODE_SERVICE.webRoot}`;
export const NODE_SERVICE_PATH = "/id";

/**
 * The sources a node's hardening admits as "the hosts' network": the run network, and with
 * vxlan each node's VXLAN address too, which Docker's MASQUERADE gives container traffic that
 * leaves through the overlay (the address of the device it leaves by), as flannel.1's address
 * is given to pod traffic. A container's own address is never among them.
 */
export const hostSources = (hostsNetwork: string, plans: readonly NodePlan[], network: NodeNetwork): string[] =>
  network === "vxlan" ? [hostsNetwork, ...plans.map((p) => `${p.vtep}/32`)] : [hostsNetwork];

/**
 * A hardening template that admits only the hosts' network (the field report's other nodes'
 * firewalls, "限制非vm网段的ip"): packets arriving from the node network whose source is not
 * one of `admitted` are dropped on the way in (INPUT) and through (FORWARD); replies to
 * connections this node opened pass. An nft table of its own, so it holds under either of
 * Docker's firewall backends and Docker never rewrites it.
 */
export function admitOnlyHostsScript(admitted: readonly string[], network: NodeNetwork): string {
  const interfaces = `{ ${clusterInterfaces(network)
    .map((i) => `"${i}"`)
    .join(", ")} }`;
  const chain = (name: string, hook: string) => [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority filter; policy accept;`,
    "    ct state established,related accept",
    `    iifname ${interfaces} ip saddr != { ${admitted.join(", ")} } counter drop`,
    "  }",
  ];
  return nftScript(
    ["table ip fwc-hardening {", ...chain("input", "input"), ...chain("forward", "forward"), "}"].join("\n"),
  );
}

/** The run network's subnet as the node sees it on its uplink (e.g. 172.20.0.0/16). */
export const HOSTS_NETWORK_READ = `${ipCommand(`-o -4 route show dev ${UPLINK} scope link`)} | cut -d' ' -f1 | head -n1`;

/** The node's container routes and addresses, read as evidence. */
export const ROUTES_READ = `${ipCommand("-4 route show")}; echo; ${ipCommand("-4 -br addr show")}`;
export const IP_FORWARD_READ = readSysctl(SYSCTL.ipForward);

/**
 * Removes the MASQUERADE of container traffic leaving the host (a nat flush, or a firewall
 * template that lacks it): with the iptables backend every `-s <subnet> ! -o <bridge> -j
 * MASQUERADE` of the nat table's POSTROUTING (a published port's hairpin rule stays), with the nftables backend the masquerade of each
 * `nat-postrouting-out__<bridge>` chain of Docker's table (`oifname != <bridge> ip saddr <subnet>`).
 */
export function dropMasqueradeScript(nftablesBackend: boolean): string {
  if (!nftablesBackend)
    return [
      `rules=$(${IPTABLES_SAVE} -t nat | grep -E '^-A POSTROUTING -s [0-9./]+ ! -o [^ ]+ -j MASQUERADE$')`,
      `[ -n "$rules" ] || { echo 'no MASQUERADE rule in nat POSTROUTING' >&2; exit 1; }`,
      `printf '%s\\n' "$rules" | sed 's/^-A /-D /' | while read -r rule; do ${iptables("-t nat $rule")} || exit 1; done`,
      `printf '%s\\n' "$rules"`,
    ].join("\n");
  return [
    `found=$(nft -a list table ip docker-bridges | awk '/^[[:space:]]*chain /{c=$2} c ~ /^nat-postrouting-out__/ && / masquerade/ {print c, $NF}')`,
    `[ -n "$found" ] || { echo 'no masquerade rule in table ip docker-bridges' >&2; exit 1; }`,
    `printf '%s\\n' "$found" | while read -r chain handle; do nft delete rule ip docker-bridges "$chain" handle "$handle" || exit 1; done`,
    `printf '%s\\n' "$found"`,
  ].join("\n");
}

/**
 * Puts the MASQUERADE of each container subnet back, as an operator would after reading the
 * report: the rule Docker had (iptables backend; added only where missing), or an nft table
 * of the operator's own (nftables backend).
 */
export function readdMasqueradeScript(
  networks: ReadonlyArray<{ subnet: string; bridge: string }>,
  nftablesBackend: boolean,
): string {
  if (!nftablesBackend)
    return networks
      .map(({ subnet, bridge }) => {
        const spec = `POSTROUTING -s ${subnet} ! -o ${bridge} -j MASQUERADE`;
        return `{ ${iptables(`-t nat -C ${spec}`)} 2>/dev/null || ${iptables(`-t nat -A ${spec}`)}; }`;
      })
      .join(" && ");
  const rules = networks.map(({ subnet, bridge }) => `    ip saddr ${subnet} oifname != "${bridge}" masquerade`);
  return nftScript(
    [
      "table ip fwc-masquerade {",
      "  chain postrouting {",
      "    type nat hook postrouting priority srcnat;",
      ...rules,
      "  }",
      "}",
    ].join("\n"),
  );
}

/**
 * Kernel-parameter files: a distribution's (or a hardening template's) file in /etc/sysctl.d
 * that says forwarding is off, the administrator's /etc/sysctl.conf, and the reload that
 * applies them all (`sysctl --system`: /etc/sysctl.d and the other directories first,
 * /etc/sysctl.conf last).
 */
export const SYSCTL_FILES = {
  distribution: "/etc/sysctl.d/60-fwc-distribution.conf",
  admin: "/etc/sysctl.conf",
  /** every directory `sysctl --system` reads besides /etc/sysctl.conf */
  directories: ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"],
} as const;

/**
 * A dind host shares this machine's kernel: `sysctl --system` there would also apply the
 * image's files for settings that are not per network namespace (kernel.*, fs.*) to the
 * machine itself. The host keeps only files of net.* settings (per namespace) before any reload.
 */
export const KEEP_ONLY_NET_SYSCTL_FILES = `for d in ${SYSCTL_FILES.directories.join(" ")}; do [ -d "$d" ] || continue; for f in "$d"/*.conf; do [ -f "$f" ] || continue; grep -qvE '^[[:space:]]*(#|;|$|net\\.)' "$f" && rm -f "$f" && echo "removed $f"; done; done; [ ! -f ${SYSCTL_FILES.admin} ] || sed -i -E '/^[[:space:]]*(#|;|$|net\\.)/!s/^/# fwc (not per network namespace): /' ${SYSCTL_FILES.admin}`;

/** Writes the distribution's file saying `key = value`. */
export const writeDistributionSysctl = (values: Record<string, number>) =>
  `mkdir -p ${SYSCTL_FILES.directories[0]} && printf '${Object.entries(values)
    .map(([k, v]) => `${k} = ${v}\\n`)
    .join("")}' > ${SYSCTL_FILES.distribution}`;

/** The kernel-parameter reload (a `systemctl restart systemd-sysctl`, procps' init script, an operator). */
export const SYSCTL_RELOAD = `sysctl --system`;

/** Sets a key in /etc/sysctl.conf (replacing its line, else appending one) and applies the file. */
export const persistSysctl = (key: string, value: number) =>
  [
    `touch ${SYSCTL_FILES.admin}`,
    `if grep -qE '^[[:space:]]*${key.replace(/\./g, "\\.")}[[:space:]]*=' ${SYSCTL_FILES.admin}; then sed -i -E 's/^[[:space:]]*${key.replace(/\./g, "\\.")}[[:space:]]*=.*/${key} = ${value}/' ${SYSCTL_FILES.admin}; else echo '${key} = ${value}' >> ${SYSCTL_FILES.admin}; fi`,
    `sysctl -p ${SYSCTL_FILES.admin}`,
  ].join(" && ");
