import type { ScenarioContext } from "../api/scenario.js";
import { parseProbeOutput, probeScript, type ProbeResult, type ProbeSpec } from "../assertions/probe.js";

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
