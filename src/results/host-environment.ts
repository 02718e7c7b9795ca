import { z } from "zod";

/**
 * How a disposable host ran: a privileged container, the capability fallback (the engine
 * cannot grant every capability, so the container gets all it can instead), or a VM.
 */
export const HOST_MODES = ["privileged", "capability-fallback", "vm"] as const;
export type HostModeKind = (typeof HOST_MODES)[number];

/** The words a dind host's mode is recorded in (host-container.ts writes them, hostModeKind reads them). */
export const PRIVILEGED_MODE = "privileged";
export const CAPABILITY_FALLBACK_PREFIX = "capabilities: ";

/**
 * Where a cell's hosts ran, as its baseline host saw it. Every field may be missing: a host
 * refused before it reported its facts, a VM has no outer engine, and a field this version
 * cannot read is dropped rather than making the whole result unreadable.
 */
export const hostEnvironmentSchema = z.object({
  mode: z.enum(HOST_MODES).optional().catch(undefined),
  /** the provider's own words, e.g. "capabilities: ALL minus BPF,PERFMON" */
  modeDetail: z.string().optional().catch(undefined),
  /** the cgroup version the host's init found ("v1", "v2"; fwcompat-hostd writes it) */
  cgroup: z.string().optional().catch(undefined),
  /** the kernel release the host ran on (uname -r inside it) */
  kernel: z.string().optional().catch(undefined),
  /** the engine fwcompat talked to, which ran the dind hosts (e.g. "Docker 28.0.4 (API 1.48)"); none for a VM */
  outerEngine: z.string().optional().catch(undefined),
});
export type HostEnvironment = z.infer<typeof hostEnvironmentSchema>;

/** The kind of a recorded host mode; undefined for words no provider writes. */
export function hostModeKind(provider: string, detail: string | undefined): HostModeKind | undefined {
  if (provider === "vagrant") return "vm";
  if (detail === PRIVILEGED_MODE) return "privileged";
  if (detail?.startsWith(CAPABILITY_FALLBACK_PREFIX)) return "capability-fallback";
  return undefined;
}

/** What an attempt records about its host: the evidence once dockerd started, the kernel reading before. */
type AttemptFacts = { evidence?: { hostMode: string; cgroup: string; kernel: string }; kernel?: { release: string } };

/** What a cell's baseline host recorded about itself, plus the outer engine of the run (dind hosts only). */
export function hostEnvironmentOf(
  provider: string,
  baseline: AttemptFacts,
  outerEngine: string | undefined,
): HostEnvironment {
  const ev = baseline.evidence;
  const mode = hostModeKind(provider, ev?.hostMode);
  const kernel = ev?.kernel || baseline.kernel?.release;
  return {
    ...(mode ? { mode } : {}),
    ...(ev?.hostMode ? { modeDetail: ev.hostMode } : {}),
    ...(ev?.cgroup ? { cgroup: ev.cgroup } : {}),
    ...(kernel ? { kernel } : {}),
    ...(outerEngine && mode !== "vm" ? { outerEngine } : {}),
  };
}

/**
 * The cell's host: its record, else (results written before cells recorded one) what its
 * baseline's evidence says, the outer engine then unknown; nothing for a cell that started no host.
 */
export function hostOfCell(r: {
  cell: { provider: string };
  host?: HostEnvironment;
  baseline?: AttemptFacts;
}): HostEnvironment | undefined {
  return r.host ?? (r.baseline ? hostEnvironmentOf(r.cell.provider, r.baseline, undefined) : undefined);
}

const NOT_RECORDED = "not recorded";

function modeWords(host: HostEnvironment): string {
  switch (host.mode) {
    case "privileged":
      return "privileged host";
    case "capability-fallback":
      return `capability-fallback host (${host.modeDetail?.slice(CAPABILITY_FALLBACK_PREFIX.length) ?? "?"})`;
    case "vm":
      return "VM host";
    default:
      return host.modeDetail ? `host "${host.modeDetail}"` : `host mode ${NOT_RECORDED}`;
  }
}

/**
 * A cell's host in words: "privileged host, cgroup v2, kernel 6.17.0-1010-azure, outer engine
 * Docker 28.0.4 (API 1.48)"; "not recorded" for results written before hosts were recorded.
 */
export function hostEnvironmentLine(host: HostEnvironment | undefined): string {
  if (!host || Object.values(host).every((v) => v === undefined)) return NOT_RECORDED;
  return [
    modeWords(host),
    host.cgroup ? `cgroup ${host.cgroup}` : `cgroup ${NOT_RECORDED}`,
    host.kernel ? `kernel ${host.kernel}` : `kernel ${NOT_RECORDED}`,
    ...(host.mode === "vm" ? [] : [`outer engine ${host.outerEngine ?? NOT_RECORDED}`]),
  ].join(", ");
}

/**
 * Each distinct host line of the cells that started a host, with how many cells: one line
 * when every cell ran alike, e.g. "privileged host, cgroup v2, kernel 6.17.0, outer engine
 * Docker 28.0.4 (API 1.48): 12 cells".
 */
export function hostEnvironmentCounts(
  results: ReadonlyArray<Parameters<typeof hostOfCell>[0]>,
): Array<{ line: string; cells: number }> {
  const counts = new Map<string, number>();
  for (const r of results) {
    const host = hostOfCell(r);
    if (!host) continue;
    const line = hostEnvironmentLine(host);
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts].map(([line, cells]) => ({ line, cells })).sort((a, b) => b.cells - a.cells);
}
