import type { ScenarioContext } from "../api/scenario.js";
import {
  dockerdCommand,
  HOST_FACT_KEYS,
  HOST_TOOLS,
  hostFactsScript,
  parseCheckProbe,
  parseKeyValueLines,
  selectIptablesCommand,
} from "../contract/host-contract.js";
import { mustStep, readIpForward, writeDaemonJson } from "../harness/host-ops.js";
import type { Evidence } from "../results/schema.js";

/** Puts the cell's iptables build first on PATH, writes daemon.json, sets forwarding, starts dockerd, records versions. */
export async function prepareHost(ctx: ScenarioContext): Promise<Evidence> {
  const { host, steps, cell, settings } = ctx;
  await mustStep(host, steps, "select iptables", selectIptablesCommand(cell.iptables, cell.backend));
  await writeDaemonJson(host, steps, ctx.current.daemonOptions);
  await mustStep(host, steps, "set ip_forward", `sysctl -qw net.ipv4.ip_forward=${settings.ipForwardAtStart}`);
  const atStart = await readIpForward(host);
  await mustStep(host, steps, "start dockerd", dockerdCommand("start"), 60_000);
  const afterDockerd = await readIpForward(host);
  await mustStep(host, steps, "import workload image", HOST_TOOLS.workloadImage);
  const versions = await mustStep(host, steps, "versions", hostFactsScript(cell.iptables));
  const facts = parseKeyValueLines(versions.stdout, HOST_FACT_KEYS);
  return {
    hostMode: host.mode,
    kernel: facts.kernel,
    iptablesVersion: facts.iptablesVersion,
    iptablesPackage: facts.iptablesPackage,
    backend: cell.backend,
    dockerdVersion: facts.dockerdVersion,
    checkProbe: parseCheckProbe(facts.checkProbe),
    ipForward: { atStart, afterDockerd },
    cgroup: facts.cgroup,
  };
}

