import { containerProbeCommand, curlCommand, WORKLOAD_ID_PATH } from "../../src/api/index.js";
import type { ProbeSpec, ScenarioContext, Target } from "../../src/api/index.js";

/** What a host policy expects of one published port from one vantage, when it differs from "reachable". */
export type PortPolicy = (
  target: Target,
  vantage: "localhost" | "host-ip" | "external",
) => Pick<ProbeSpec, "expect" | "guard"> | undefined;

/**
 * Every published container from every vantage: loopback and the host's own address from
 * inside the host, the host's address from the external peer; and each network's first
 * container towards the next network's, which Docker's isolation must block. A policy
 * (e.g. ufw's) may expect some ports blocked from some vantages.
 */
export function standardProbes(ctx: ScenarioContext, policy?: PortPolicy): ProbeSpec[] {
  const specs: ProbeSpec[] = [];
  for (const t of ctx.targets) {
    if (t.hostPort === undefined) continue;
    const target = `${t.network}/${t.container} :${t.hostPort}`;
    const path = `:${t.hostPort}${WORKLOAD_ID_PATH}`;
    const base = { target, expectAnswer: t.container, expect: "reachable" as const };
    const urls = {
      localhost: `http://127.0.0.1${path}`,
      "host-ip": `http://${ctx.host.address}${path}`,
      external: `http://${ctx.host.address}${path}`,
    };
    for (const [vantage, url] of Object.entries(urls) as Array<[keyof typeof urls, string]>) {
      specs.push({ ...base, ...policy?.(t, vantage), vantage, command: (timeoutMs) => curlCommand(url, timeoutMs) });
    }
  }
  // the first container deployed on each network: the user's late container never replaces it,
  // so a fix attempt probes the same pairs as its baseline
  const firstPerNetwork = ctx.targets.filter((t, i) => ctx.targets.findIndex((u) => u.network === t.network) === i);
  if (firstPerNetwork.length > 1) {
    firstPerNetwork.forEach((from, i) => {
      const to = firstPerNetwork[(i + 1) % firstPerNetwork.length];
      if (!to || to === from) return;
      specs.push({
        vantage: "cross-network",
        target: `${from.network}/${from.container} -> ${to.network}/${to.container} ${to.ip}:80`,
        command: (timeoutMs) => containerProbeCommand(from.container, `http://${to.ip}${WORKLOAD_ID_PATH}`, timeoutMs),
        expectAnswer: to.container,
        expect: "blocked",
      });
    });
  }
  return specs;
}
