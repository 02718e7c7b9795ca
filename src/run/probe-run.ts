import type { ScenarioContext } from "../api/scenario.js";
import { parseProbeOutput, PROBE_EXEC_ALLOWANCE_S, probeOrder, probeScript, type ProbeResult, type ProbeSpec, type Vantage } from "../assertions/probe.js";
import { runStep } from "../harness/host-ops.js";

/**
 * Forgets the host's neighbour (ARP) entries for its container bridges. A probe from
 * 127.0.0.1 that dockerd failed to masquerade makes the host ask for the container's MAC
 * with 127.0.0.1 as sender; nobody answers, the entry fails, and for a few seconds any
 * other connection to that container gets "No route to host". Without the flush a vantage
 * probed right after localhost could fail only because localhost went first.
 */
const FLUSH_NEIGHBOURS = `for d in /sys/class/net/docker0 /sys/class/net/br-*; do [ -e "$d" ] && ip neigh flush dev "\${d##*/}"; done; true`;

export interface ProbeRun {
  results: ProbeResult[];
  order: { seed: string; repeat: number; vantages: Vantage[] };
}

/**
 * Probes one vantage at a time, in the order the seed and repeat choose, each on a host
 * whose neighbour cache was flushed first, so that no probe's outcome depends on which
 * vantage went before it. Within a vantage every probe runs in parallel (one timeout each).
 */
export async function runProbes(ctx: ScenarioContext, specs: readonly ProbeSpec[], seed: string, repeat: number): Promise<ProbeRun> {
  const vantages = probeOrder([...new Set(specs.map((s) => s.vantage))], seed, repeat);
  const bound = ctx.settings.probeTimeoutMs + (PROBE_EXEC_ALLOWANCE_S + 15) * 1000;
  const results: ProbeResult[] = [];
  for (const vantage of vantages) {
    const batch = specs.filter((s) => s.vantage === vantage);
    await runStep(ctx.host, ctx.steps, `before ${vantage} probes: flush neighbour cache`, FLUSH_NEIGHBOURS, 10_000);
    const run = await (vantage === "external" ? ctx.peer : ctx.host).sh(probeScript(batch), bound);
    results.push(...parseProbeOutput(batch, run));
  }
  const position = new Map(specs.map((s, i) => [`${s.vantage}\0${s.target}`, i]));
  results.sort((a, b) => (position.get(`${a.vantage}\0${a.target}`) ?? 0) - (position.get(`${b.vantage}\0${b.target}`) ?? 0));
  return { results, order: { seed, repeat, vantages } };
}
