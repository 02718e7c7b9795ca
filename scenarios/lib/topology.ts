import { engineStep, mustStep, runSteps, WORKLOAD_IMAGE } from "../../src/api/index.js";
import type { ScenarioContext, Target } from "../../src/api/index.js";

/** Names a run's inner networks and containers; inside a disposable host nothing else can collide. */
export const networkName = (i: number) => `fwc-net${i}`;
export const containerName = (network: number, index: number) => `n${network}c${index}`;

/**
 * `docker run` of a published workload container, as a user would type it. The workload ends on
 * SIGTERM; the 1 s stop timeout bounds a dockerd restart should a container ever ignore it.
 */
export function workloadRunCommand(name: string, network: string | undefined, hostPort: number | undefined): string {
  const net = network ? ` --network ${network}` : "";
  const publish = hostPort === undefined ? "" : ` -p ${hostPort}:80`;
  return `docker run -d --restart unless-stopped --stop-timeout 1 --name ${name} --hostname ${name}${net}${publish} ${WORKLOAD_IMAGE}`;
}

/** Runs a workload container (published if it has a host port) and records it as a probe target. */
export async function runWorkload(
  ctx: ScenarioContext,
  spec: { name: string; network: string | undefined; hostPort: number | undefined },
): Promise<void> {
  await engineStep(ctx.host, ctx.steps, `run ${spec.name}`, workloadRunCommand(spec.name, spec.network, spec.hostPort));
  ctx.targets.push(await describeTarget(ctx, spec.name, spec.hostPort));
}

export async function describeTarget(
  ctx: ScenarioContext,
  container: string,
  hostPort: number | undefined,
): Promise<Target> {
  const [target] = await describeTargets(ctx, [{ container, hostPort }]);
  return target as Target;
}

const CONTAINER_FORMAT =
  "{{.Name}} {{range $n, $v := .NetworkSettings.Networks}}{{$n}} {{$v.NetworkID}} {{$v.IPAddress}} {{$v.IPPrefixLen}}{{end}}";

type Wanted = ReadonlyArray<{ container: string; hostPort: number | undefined }>;

/** The step that describes containers (two docker commands): its output reads with `targetsOf`. */
const describeStep = (wanted: Wanted) => {
  const names = wanted.map((w) => w.container);
  const script = [
    `docker inspect -f '${CONTAINER_FORMAT}' ${names.join(" ")} > /tmp/fwc-targets`,
    "cat /tmp/fwc-targets",
    `docker network inspect -f '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}}' $(cut -d' ' -f2 /tmp/fwc-targets | sort -u)`,
  ].join("\n");
  return { name: `inspect ${names.join(" ")}`, script, policy: "must" as const };
};

/** Network, bridge, subnet and address of each container, read with one call into the host (two docker commands). */
export async function describeTargets(ctx: ScenarioContext, wanted: Wanted): Promise<Target[]> {
  const step = describeStep(wanted);
  return targetsOf(wanted, (await mustStep(ctx.host, ctx.steps, step.name, step.script)).stdout);
}

function targetsOf(wanted: Wanted, stdout: string): Target[] {
  const lines = stdout
    .trim()
    .split("\n")
    .map((line) => line.trim().replace(/^\//, "").split(" "));
  const subnets = new Map(lines.filter((l) => l.length === 2).map(([network = "", subnet = ""]) => [network, subnet]));
  return wanted.map(({ container, hostPort }) => {
    const [, network = "", networkId = "", ip = "", prefix = ""] =
      lines.find((l) => l[0] === container && l.length >= 5) ?? [];
    if (!network) throw new Error(`inspect ${container}: the engine did not describe it:\n${stdout.slice(0, 400)}`);
    const bridge = network === "bridge" ? "docker0" : `br-${networkId.slice(0, 12)}`;
    return { container, network, bridge, subnet: subnets.get(network) || `${ip}/${prefix}`, ip, hostPort };
  });
}

/**
 * The cell's topology: one published container on the default bridge and on each of N
 * user bridges (more per bridge if asked), ports counting up from basePort. A network or
 * container the engine will not create is an EngineRefusal: the cell's result.
 */
export async function deployTopology(ctx: ScenarioContext): Promise<void> {
  const { bridges, containersPerBridge, basePort } = ctx.cell.topology;
  let port = basePort;
  const workloads = [{ name: "n0c1", network: undefined as string | undefined, hostPort: port++ }];
  const steps = [
    { name: "run n0c1", script: workloadRunCommand("n0c1", undefined, basePort), policy: "engine" as const },
  ];
  // created in this fixed order, one after the other: which rules the -C bug skips depends on it
  for (let n = 1; n <= bridges; n++) {
    steps.push({
      name: `create ${networkName(n)}`,
      script: `docker network create ${networkName(n)}`,
      policy: "engine",
    });
    for (let c = 1; c <= containersPerBridge; c++) {
      const workload = { name: containerName(n, c), network: networkName(n), hostPort: port++ };
      workloads.push(workload);
      steps.push({
        name: `run ${workload.name}`,
        script: workloadRunCommand(workload.name, workload.network, workload.hostPort),
        policy: "engine",
      });
    }
  }
  const wanted = (names: Set<string>) =>
    workloads.filter((w) => names.has(w.name)).map((w) => ({ container: w.name, hostPort: w.hostPort }));
  const all = wanted(new Set(workloads.map((w) => w.name)));
  try {
    // described in the same call, once every container runs
    const results = await runSteps(ctx.host, ctx.steps, [...steps, describeStep(all)]);
    ctx.targets.push(...targetsOf(all, results.at(-1)?.stdout ?? ""));
  } catch (error) {
    // a refusal part-way: the containers that did start are still the cell's targets
    const started = new Set(
      ctx.steps.filter((s) => s.exitCode === 0 && s.name.startsWith("run ")).map((s) => s.name.slice(4)),
    );
    if (started.size > 0 && ctx.targets.length === 0)
      ctx.targets.push(...(await describeTargets(ctx, wanted(started)).catch(() => [])));
    throw error;
  }
}

/** The next free published port after everything deployed so far. */
export const nextPort = (ctx: ScenarioContext) =>
  Math.max(ctx.cell.topology.basePort - 1, ...ctx.targets.map((t) => t.hostPort ?? 0)) + 1;
