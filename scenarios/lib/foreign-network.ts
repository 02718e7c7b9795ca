import { curlCommand, HOST_FILES, ipCommand, mustStep, setSysctl, SYSCTL } from "../../src/api/index.js";
import type { ProbeSpec, ScenarioContext } from "../../src/api/index.js";

/**
 * A network Docker does not own, as libvirt or LXD create one: a plain Linux bridge with two
 * VM-like network namespaces behind it, and an uplink namespace beyond the host standing for
 * the network the VMs route to. Each namespace serves its own name over HTTP (busybox httpd).
 * Addresses stay clear of the inner engine's pools (10.77/24, 10.78/16).
 */
export const FOREIGN = {
  bridge: "fwc-fbr0",
  gateway: "10.99.0.1/24",
  vms: [
    { ns: "fwc-vm1", ip: "10.99.0.11" },
    { ns: "fwc-vm2", ip: "10.99.0.12" },
  ],
  uplink: { ns: "fwc-wan", hostSide: "10.98.0.1/30", ip: "10.98.0.2" },
} as const;

const webRoot = (ns: string) => `${HOST_FILES.namespaceWebRoot}/${ns}`;
const serve = (ns: string) =>
  `mkdir -p ${webRoot(ns)} && echo ${ns} > ${webRoot(ns)}/id && ${ipCommand(`netns exec ${ns} busybox httpd -p 80 -h ${webRoot(ns)}`)}`;

/** veth into a new namespace, its address, default route via the host, and its web server. */
const namespace = (ns: string, hostLink: string, ip: string, prefix: number, gateway: string) =>
  [
    ipCommand(`netns add ${ns}`),
    ipCommand(`link add ${ns} type veth peer name eth0 netns ${ns}`),
    hostLink,
    ipCommand(`-n ${ns} addr add ${ip}/${prefix} dev eth0`),
    ipCommand(`-n ${ns} link set eth0 up`),
    ipCommand(`-n ${ns} link set lo up`),
    ipCommand(`-n ${ns} route add default via ${gateway}`),
    serve(ns),
  ].join(" && ");

/**
 * The script that creates the foreign network. Like libvirt and LXD starting their networks,
 * it turns forwarding on; it adds no firewall rules of its own (a plain bridge).
 */
function foreignNetworkScript(): string {
  const { bridge, gateway, vms, uplink } = FOREIGN;
  const gw = gateway.split("/")[0] ?? "";
  const upGw = uplink.hostSide.split("/")[0] ?? "";
  return [
    [`link add ${bridge} type bridge`, `addr add ${gateway} dev ${bridge}`, `link set ${bridge} up`]
      .map(ipCommand)
      .join(" && "),
    ...vms.map((vm) => namespace(vm.ns, ipCommand(`link set ${vm.ns} master ${bridge} up`), vm.ip, 24, gw)),
    namespace(
      uplink.ns,
      `${ipCommand(`addr add ${uplink.hostSide} dev ${uplink.ns}`)} && ${ipCommand(`link set ${uplink.ns} up`)}`,
      uplink.ip,
      30,
      upGw,
    ),
    setSysctl({ [SYSCTL.ipForward]: 1 }),
  ].join(" && ");
}

export async function createForeignNetwork(ctx: ScenarioContext, name: string): Promise<void> {
  await mustStep(ctx.host, ctx.steps, name, foreignNetworkScript());
}

/** The first VM towards the second on the same bridge (bridged) and towards the uplink beyond the host (routed). */
export function foreignProbes(): ProbeSpec[] {
  const [vm1, vm2] = FOREIGN.vms;
  const { uplink, bridge } = FOREIGN;
  const from = (ns: string, url: string) => (timeoutMs: number) =>
    ipCommand(`netns exec ${ns} ${curlCommand(url, timeoutMs)}`);
  return [
    {
      vantage: "foreign-bridged",
      target: `${bridge}/${vm1.ns} -> ${vm2.ns} ${vm2.ip}:80`,
      command: from(vm1.ns, `http://${vm2.ip}/id`),
      expectAnswer: vm2.ns,
      expect: "reachable",
    },
    {
      vantage: "foreign-routed",
      target: `${bridge}/${vm1.ns} -> ${uplink.ns} ${uplink.ip}:80`,
      command: from(vm1.ns, `http://${uplink.ip}/id`),
      expectAnswer: uplink.ns,
      expect: "reachable",
    },
  ];
}
