import type { ScenarioContext } from "../api/scenario.js";
import { droppedBetween, parseDropCounters, type DropCounters } from "../assertions/drop-counters.js";
import {
  parseProbeOutput,
  PROBE_EXEC_ALLOWANCE_S,
  probeOrder,
  probeScript,
  type ProbeResult,
  type ProbeSpec,
  type Vantage,
} from "../assertions/probe.js";
import { HARNESS_SCRATCH, HOST_PATHS, NFT_BINARY } from "../contract/host-contract.js";
import { recordStep, runSteps, type NamedStep } from "../harness/host-ops.js";
import { ipCommand } from "../contract/host-commands.js";
import { TIMEOUT_MS } from "../contract/timeouts.js";

export interface ProbeRun {
  results: ProbeResult[];
  order: { seed: string; repeat: number; vantages: Vantage[] };
}

/**
 * The step that refreshes each target's address (a dockerd restart may hand them out anew),
 * lists its pid for probes from containers, and pins the host's neighbour (ARP) entry for it.
 * A probe from 127.0.0.1 that dockerd failed to
 * masquerade makes the host ask for the container's MAC with 127.0.0.1 as sender; nobody
 * answers, the entry fails, and for a few seconds any other connection to that container
 * gets "No route to host". With the entries pinned no probe can do that to another, so
 * every vantage can be probed at once and no outcome depends on which went first.
 */
function pinStep(ctx: ScenarioContext): NamedStep | undefined {
  const names = ctx.targets.map((t) => t.container);
  if (names.length === 0) return undefined;
  const script = [
    `: > ${HARNESS_SCRATCH.containerPids}`,
    `docker inspect -f '{{.Name}} {{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{.MacAddress}} {{end}}' ${names.join(" ")} 2>/dev/null | while read -r name pid ip mac rest; do`,
    `  echo "$name $ip $mac"; [ "$pid" -gt 0 ] 2>/dev/null && echo "\${name#/} $pid" >> ${HARNESS_SCRATCH.containerPids}`,
    `  [ -n "$ip" ] && [ -n "$mac" ] || continue`,
    `  dev=$(${ipCommand('-o route get "$ip"')} | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p')`,
    `  ${ipCommand('neigh replace "$ip" lladdr "$mac" dev "$dev" nud permanent')} || echo "could not pin $ip on $dev" >&2`,
    "done",
  ].join("\n");
  return { name: "container addresses; pin their neighbour entries", script, policy: "observe" };
}

function applyPins(ctx: ScenarioContext, stdout: string): void {
  const addresses = new Map(
    stdout
      .split("\n")
      .map((line) => line.trim().replace(/^\//, "").split(" "))
      .flatMap(([name, ip]) => (name && ip ? [[name, ip] as const] : [])),
  );
  for (const t of ctx.targets) t.ip = addresses.get(t.container) ?? t.ip;
}

/** Drop counters as the selected iptables build and nft see them, read past the tracing shim. */
const DROP_COUNTERS_SCRIPT = `d=$(cat ${HOST_PATHS.iptablesDir} 2>/dev/null); [ -n "$d" ] && "$d/iptables-save" -c 2>/dev/null; echo '@@nft@@'; [ -x ${NFT_BINARY} ] && ${NFT_BINARY} list ruleset 2>/dev/null; true`;

const parseReading = (stdout: string): DropCounters => {
  const [iptables = "", nft = ""] = stdout.split("@@nft@@\n");
  return parseDropCounters(iptables, nft);
};

const packetsDropped = (before: DropCounters, now: DropCounters) =>
  droppedBetween(before, now).reduce((n, d) => n + d.packets, 0);

/**
 * Reads the drop counters again and again while the blocked probes run, until they have
 * counted at least `wanted` packets or the probes have ended. A dropped SYN is not sent again
 * within the short timeout (the first retransmission comes after a second), so once the
 * counters moved by one packet per blocked probe, before anything else was sent, every
 * blocked probe that times out was dropped: the probes that must answer can start then,
 * while the blocked ones wait out their timeout. Only the reading that decided is kept as a step.
 */
async function awaitDrops(
  ctx: ScenarioContext,
  before: DropCounters,
  wanted: number,
  probes: Promise<unknown>,
): Promise<{ counters: DropCounters; early: boolean }> {
  let ended = false;
  probes.then(
    () => (ended = true),
    () => (ended = true),
  );
  for (;;) {
    const endedBefore = ended;
    const startedAtMs = Date.now();
    const read = await ctx.host.sh(DROP_COUNTERS_SCRIPT, TIMEOUT_MS.hostRead);
    const counters = parseReading(read.stdout);
    if (packetsDropped(before, counters) >= wanted || endedBefore) {
      recordStep(
        ctx.steps,
        endedBefore
          ? "drop counters after the blocked probes"
          : "drop counters once the blocked probes' packets were dropped",
        DROP_COUNTERS_SCRIPT,
        read,
        startedAtMs,
      );
      return { counters, early: !endedBefore };
    }
  }
}

/** The rules that name the probe's own destination first (usually the one that dropped it), then the others. */
function droppedBy(spec: ProbeSpec, dropped: ReturnType<typeof droppedBetween>): string {
  const ips = spec.target.match(/\d+\.\d+\.\d+\.\d+/g) ?? [];
  const own = (rule: string) =>
    ips.some((ip) => new RegExp(`(^|[^\\d.])${ip.replace(/\./g, "\\.")}([^\\d]|$)`).test(rule));
  const ranked = [...dropped.filter((d) => own(d.rule)), ...dropped.filter((d) => !own(d.rule))];
  return `${ranked
    .slice(0, 3)
    .map((d) => `${d.rule} (+${d.packets})`)
    .join("; ")}${ranked.length > 3 ? "; …" : ""}`;
}

/**
 * Probes every spec from its vantage, all vantages at once. The targets are pinned first, in
 * the same call as the first counter reading (see pinStep), and the specs are asked for after
 * that, as the addresses they name may have changed. Probes expected to be blocked go first,
 * with the short blocked timeout; a timeout there counts as blocked only when the host's drop
 * counters moved by at least one packet per timed-out probe before anything else was sent, and
 * is otherwise probed again with the full timeout. The probes expected to answer start, with
 * the full timeout, as soon as the counters have vouched for every blocked probe (see
 * awaitDrops), else once the blocked probes have ended. The seed and repeat choose the order
 * the vantages are launched in.
 */
export async function runProbes(
  ctx: ScenarioContext,
  probes: (ctx: ScenarioContext) => readonly ProbeSpec[],
  seed: string,
  repeat: number,
): Promise<ProbeRun> {
  const pin = pinStep(ctx);
  const countersFirst: NamedStep = {
    name: "drop counters before the blocked probes",
    script: DROP_COUNTERS_SCRIPT,
    policy: "observe",
  };
  // whether a probe is expected to be blocked does not depend on the addresses
  const anyBlocked = probes(ctx).some((s) => s.expect === "blocked");
  const first = [...(pin ? [pin] : []), ...(anyBlocked ? [countersFirst] : [])];
  const preliminaries =
    first.length > 0 ? await runSteps(ctx.host, ctx.steps, first, TIMEOUT_MS.probePreliminaries) : [];
  if (pin) applyPins(ctx, preliminaries[0]?.stdout ?? "");
  const specs = probes(ctx);
  const vantages = probeOrder([...new Set(specs.map((s) => s.vantage))], seed, repeat);
  const ordered = vantages.flatMap((v) => specs.filter((s) => s.vantage === v));
  // a reachable port of a VM under software emulation can take longer to answer than a native host's
  const slowdown = ctx.host.slowdown ?? 1;
  const probeTimeoutMs = ctx.settings.probeTimeoutMs * slowdown;
  const blockedProbeTimeoutMs = ctx.settings.blockedProbeTimeoutMs * slowdown;
  const results = new Map<ProbeSpec, ProbeResult>();
  const blocked = ordered.filter((s) => s.expect === "blocked");
  const reachable = ordered.filter((s) => s.expect !== "blocked");
  const answer = async (list: readonly ProbeSpec[]) =>
    (await probeAll(ctx, list, probeTimeoutMs)).forEach((result, i) => results.set(list[i] as ProbeSpec, result));

  let answering: Promise<void> | undefined;
  let again: Promise<void> | undefined;
  if (blocked.length > 0) {
    const short = Math.min(blockedProbeTimeoutMs, probeTimeoutMs);
    const before = parseReading(preliminaries.at(-1)?.stdout ?? "");
    const blockedRun = probeAll(ctx, blocked, short);
    const { counters, early } = await awaitDrops(ctx, before, blocked.length, blockedRun);
    if (early) answering = answer(reachable);
    const first = await blockedRun;
    const dropped = droppedBetween(before, counters);
    const packets = packetsDropped(before, counters);
    const timedOut = blocked.filter((_, i) => first[i]?.outcome === "timeout");
    const confirmed = timedOut.length === 0 || short >= probeTimeoutMs || packets >= timedOut.length;
    blocked.forEach((spec, i) => {
      const result = first[i] as ProbeResult;
      results.set(
        spec,
        result.outcome === "timeout" && short < probeTimeoutMs && confirmed
          ? {
              ...result,
              detail: `${result.detail}; ${packets} packet(s) dropped while the blocked probes ran: ${droppedBy(spec, dropped)}`,
            }
          : result,
      );
    });
    if (!confirmed) {
      const why =
        packets > 0
          ? `only ${packets} packet(s) dropped for ${timedOut.length} timed-out probe(s)`
          : "no drop counter moved";
      again = probeAll(ctx, timedOut, probeTimeoutMs).then((retried) =>
        retried.forEach((result, i) =>
          results.set(timedOut[i] as ProbeSpec, {
            ...result,
            detail: `${result.detail} (after a ${short} ms timeout, ${why}: probed again with ${probeTimeoutMs} ms)`,
          }),
        ),
      );
    }
  }
  await Promise.all([answering ?? answer(reachable), again]);
  return { results: specs.map((s) => results.get(s) as ProbeResult), order: { seed, repeat, vantages } };
}

/**
 * Runs the specs in parallel, one call per place they run from, all at once: the external ones
 * from the peer, those of another node of a multi-node cell from that node's host, the rest
 * from the scenario's host.
 */
async function probeAll(ctx: ScenarioContext, specs: readonly ProbeSpec[], timeoutMs: number): Promise<ProbeResult[]> {
  const bound = timeoutMs + (PROBE_EXEC_ALLOWANCE_S + 15) * 1000;
  const runner = (spec: ProbeSpec): Pick<ScenarioContext["host"], "sh"> => {
    if (spec.vantage === "external") return ctx.peer;
    if (spec.node === undefined || spec.node === ctx.cluster?.self.name) return ctx.host;
    const other = ctx.cluster?.others.find((o) => o.plan.name === spec.node);
    if (!other) throw new Error(`probe ${spec.target}: the cell has no node '${spec.node}'`);
    return other.host;
  };
  const batches = new Map<Pick<ScenarioContext["host"], "sh">, ProbeSpec[]>();
  for (const spec of specs) batches.set(runner(spec), [...(batches.get(runner(spec)) ?? []), spec]);
  const byspec = new Map<ProbeSpec, ProbeResult>();
  await Promise.all(
    [...batches].map(async ([from, batch]) => {
      const results = parseProbeOutput(batch, await from.sh(probeScript(batch, timeoutMs), bound));
      batch.forEach((spec, i) => {
        const result = results[i];
        if (result) byspec.set(spec, result);
      });
    }),
  );
  return specs.map((s) => byspec.get(s) as ProbeResult);
}
