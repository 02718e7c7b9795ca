import { execa } from "execa";

/**
 * The machine's own firewall, as the test of "fwcompat never touches it" compares it before and
 * after a run. It reads the whole ruleset (the one machine-wide read the tests make, and the
 * point of that test) and leaves out only what changes by itself or by others:
 * - packet and byte counters, and the generator's comment lines;
 * - rules naming a Docker bridge (docker0, br-<network id>): the outer engine writes and removes
 *   those as anyone's networks and containers come and go (this run's own network among them,
 *   and another run's on a shared engine). Chains, policies, jumps and every other rule stay:
 *   a harness that flushed or rewrote the machine's tables would change them.
 */
export interface MachineFirewall {
  iptables: string;
  ip6tables: string;
  /** `nft list ruleset`: every table, also those iptables-save never prints */
  nftables: string;
}

const ENGINE_BRIDGE = /\b(docker0|br-[0-9a-f]{12})\b/;

const withoutEngineBridgeRules = (text: string) =>
  text
    .split("\n")
    .filter((line) => !ENGINE_BRIDGE.test(line))
    .join("\n");

async function saved(tool: "iptables-save" | "ip6tables-save"): Promise<string> {
  const lines = (await execa(tool)).stdout.split("\n").filter((line) => !line.startsWith("#"));
  return withoutEngineBridgeRules(lines.map((line) => line.replace(/\[\d+:\d+\]/g, "[counters]")).join("\n"));
}

async function ruleset(): Promise<string> {
  const nft = await execa("nft", ["list", "ruleset"], { reject: false });
  if (nft.exitCode !== 0)
    throw new Error(`nft list ruleset failed (${nft.stderr || nft.message}); install nftables (scripts/setup.sh does)`);
  return withoutEngineBridgeRules(nft.stdout.replace(/counter packets \d+ bytes \d+/g, "counter"));
}

export async function machineFirewall(): Promise<MachineFirewall> {
  return {
    iptables: await saved("iptables-save"),
    ip6tables: await saved("ip6tables-save"),
    nftables: await ruleset(),
  };
}
