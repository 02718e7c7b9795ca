import {
  containerWgetCommand,
  curlCommand,
  parseProbeOutput,
  probeScript,
  type ProbeResult,
  type ProbeSpec,
} from "../../src/assertions/probe.js";
import type { ScenarioContext } from "../api.js";

/**
 * Every published container from every vantage: loopback and the host's own address from
 * inside the host, the host's address from the external peer; and each network's first
 * container towards the next network's, which Docker's isolation must block.
 */
export function standardProbes(ctx: ScenarioContext): ProbeSpec[] {
  const timeout = ctx.settings.probeTimeoutMs;
  const specs: ProbeSpec[] = [];
  for (const t of ctx.targets) {
    if (t.hostPort === undefined) continue;
    const target = `${t.network}/${t.container} :${t.hostPort}`;
    const path = `:${t.hostPort}/cgi-bin/id`;
    const base = { target, expectAnswer: t.container, expect: "reachable" as const };
    specs.push({ ...base, vantage: "localhost", command: curlCommand(`http://127.0.0.1${path}`, timeout) });
    specs.push({ ...base, vantage: "host-ip", command: curlCommand(`http://${ctx.host.address}${path}`, timeout) });
    specs.push({ ...base, vantage: "external", command: curlCommand(`http://${ctx.host.address}${path}`, timeout) });
  }
  const firstPerNetwork = [...new Map(ctx.targets.map((t) => [t.network, t])).values()];
  if (firstPerNetwork.length > 1) {
    firstPerNetwork.forEach((from, i) => {
      const to = firstPerNetwork[(i + 1) % firstPerNetwork.length];
      if (!to || to === from) return;
      specs.push({
        vantage: "cross-network",
        target: `${from.network}/${from.container} -> ${to.network}/${to.container} ${to.ip}:80`,
        command: containerWgetCommand(from.container, `http://${to.ip}/cgi-bin/id`, timeout),
        expectAnswer: to.container,
        expect: "blocked",
      });
    });
  }
  return specs;
}

/** Runs the host-side and peer-side batches at the same time; each batch costs about one probe timeout. */
export async function runProbes(ctx: ScenarioContext, specs: readonly ProbeSpec[]): Promise<ProbeResult[]> {
  const fromPeer = specs.filter((s) => s.vantage === "external");
  const fromHost = specs.filter((s) => s.vantage !== "external");
  const bound = ctx.settings.probeTimeoutMs + 15_000;
  const [hostRun, peerRun] = await Promise.all([
    fromHost.length ? ctx.host.sh(probeScript(fromHost), bound) : undefined,
    fromPeer.length ? ctx.peer.sh(probeScript(fromPeer), bound) : undefined,
  ]);
  const results = [...(hostRun ? parseProbeOutput(fromHost, hostRun) : []), ...(peerRun ? parseProbeOutput(fromPeer, peerRun) : [])];
  const order = new Map(specs.map((s, i) => [`${s.vantage}\0${s.target}`, i]));
  return results.sort((a, b) => (order.get(`${a.vantage}\0${a.target}`) ?? 0) - (order.get(`${b.vantage}\0${b.target}`) ?? 0));
}
