import { engineStep, mustStep, WORKLOAD_IMAGE } from "../../src/api/index.js";
import type { ScenarioContext, Target } from "../../src/api/index.js";

/** Names a run's inner networks and containers; inside a disposable host nothing else can collide. */
export const networkName = (i: number) => `fwc-net${i}`;
export const containerName = (network: number, index: number) => `n${network}c${index}`;

/**
 * `docker run` of a published workload container, as a user would type it.
 * busybox httpd as PID 1 ignores SIGTERM: a 1 s stop timeout keeps dockerd restarts from waiting 10 s per container.
 */
export function workloadRunCommand(name: string, network: string | undefined, hostPort: number | undefined): string {
  const net = network ? ` --network ${network}` : "";
  const publish = hostPort === undefined ? "" : ` -p ${hostPort}:80`;
  return `docker run -d --restart unless-stopped --stop-timeout 1 --name ${name} --hostname ${name}${net}${publish} ${WORKLOAD_IMAGE}`;
}

/** Runs a workload container (published if it has a host port) and records it as a probe target. */
export async function runWorkload(ctx: ScenarioContext, spec: { name: string; network: string | undefined; hostPort: number | undefined }): Promise<void> {
  await engineStep(ctx.host, ctx.steps, `run ${spec.name}`, workloadRunCommand(spec.name, spec.network, spec.hostPort));
  ctx.targets.push(await describeTarget(ctx, spec.name, spec.hostPort));
}

export async function describeTarget(ctx: ScenarioContext, container: string, hostPort: number | undefined): Promise<Target> {
  const format = "{{range $n, $v := .NetworkSettings.Networks}}{{$n}} {{$v.NetworkID}} {{$v.IPAddress}} {{$v.IPPrefixLen}}{{end}}";
  const out = await mustStep(ctx.host, ctx.steps, `inspect ${container}`, `docker inspect -f '${format}' ${container}`);
  const [network = "", networkId = "", ip = "", prefix = ""] = out.stdout.trim().split(" ");
  const bridge = network === "bridge" ? "docker0" : `br-${networkId.slice(0, 12)}`;
  const subnet = await mustStep(ctx.host, ctx.steps, `subnet of ${network}`, `docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' ${network}`);
  return { container, network, bridge, subnet: subnet.stdout.trim() || `${ip}/${prefix}`, ip, hostPort };
}

/**
 * The cell's topology: one published container on the default bridge and on each of N
 * user bridges (more per bridge if asked), ports counting up from basePort. A network or
 * container the engine will not create is an EngineRefusal: the cell's result.
 */
export async function deployTopology(ctx: ScenarioContext): Promise<void> {
  const { bridges, containersPerBridge, basePort } = ctx.cell.topology;
  let port = basePort;
  await runWorkload(ctx, { name: "n0c1", network: undefined, hostPort: port++ });
  for (let n = 1; n <= bridges; n++) {
    await engineStep(ctx.host, ctx.steps, `create ${networkName(n)}`, `docker network create ${networkName(n)}`);
    for (let c = 1; c <= containersPerBridge; c++) {
      await runWorkload(ctx, { name: containerName(n, c), network: networkName(n), hostPort: port++ });
    }
  }
}

/** The next free published port after everything deployed so far. */
export const nextPort = (ctx: ScenarioContext) => Math.max(ctx.cell.topology.basePort - 1, ...ctx.targets.map((t) => t.hostPort ?? 0)) + 1;
