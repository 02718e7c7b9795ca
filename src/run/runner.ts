import type Docker from "dockerode";
import { engineUnreachable } from "../harness/engine.js";
import pLimit from "p-limit";
import type { Cell } from "../config/expand.js";
import type { Engine, LoadedMatrix } from "../config/schema.js";
import type { BasePlan } from "../harness/images/base-image.js";
import { FIXES } from "../fixes/index.js";
import type { AttemptResult, CellResult } from "../results/schema.js";
import { combineRepeats } from "../results/repeats.js";
import { notApplicableAtStart, runAttempt, type HostInput } from "./attempt.js";
import { CHAINED_ATTEMPT, runChainedFixes } from "./chained-fixes.js";
import { baselineStatus } from "../results/verdicts.js";
import type { Fix } from "../api/scenario.js";
import { AttemptSlots } from "./attempt-slots.js";
import type { ConcurrencyRange } from "../config/concurrency.js";
import { cpuBusySampler } from "../harness/cpu-load.js";
import { followCpu } from "./follow-cpu.js";
import { scenariosFor } from "./registry.js";
import { assembleCell, resultWithoutAttempts } from "./cell-status.js";
import type { PreparedImages } from "../harness/images/prepare.js";
import { preparePlannedImages } from "./session/images.js";
import { DindProvider } from "../harness/providers/dind.js";
import type { HostProvider } from "../harness/host.js";
import { BOX_SUITE } from "../harness/vagrant/box.js";
import { startVmLane } from "../harness/vagrant/lane.js";
import { resolveVmConcurrency } from "../harness/vagrant/concurrency.js";
import { readSharedKernel } from "../harness/kernel-reading.js";
import { kernelLine, type KernelCapability } from "../contract/kernel-capability.js";
import { kernelGate, withKernel } from "./kernel-gate.js";
import { outerEngineVersion } from "../harness/machine-facts.js";
import { hostEnvironmentOf } from "../results/host-environment.js";

export interface RunOptions {
  docker: Docker;
  runId: string;
  matrix: LoadedMatrix;
  cells: Cell[];
  /** the engines the cells use, and how their base images will be had (planned before the run starts) */
  engines: Engine[];
  basePlans: BasePlan[];
  mirror: string;
  /** own host engines' checked images (see ImagePlan) */
  ownHosts?: ReadonlyMap<string, string>;
  concurrency: number;
  /** concurrency auto: the run follows the CPU it measures within this range (see followCpu) */
  concurrencyRange?: ConcurrencyRange;
  /** run each cell this many times, each in another probe order; disagreeing repeats make it flaky */
  repeat: number;
  /** with the cell and the repeat's number, chooses the order the vantages are probed in (default "0") */
  seed?: string;
  /** skip every fix: baseline attempts only */
  baselineOnly: boolean;
  /** results of cells already finished (--resume): they are not run again */
  finished: ReadonlyMap<string, CellResult>;
  log: (line: string) => void;
  /** called the moment a cell is finished, so nothing finished is lost */
  onCell: (result: CellResult) => Promise<void>;
  /** every provider is handed out so a signal handler can close it */
  onProvider?: (provider: HostProvider) => void;
  /** how far the run is, for a progress display */
  onProgress?: (event: RunProgressEvent) => void;
}

export type RunProgressEvent =
  /** images are ready: how many attempts the runnable cells will take */
  | { kind: "planned"; attempts: number }
  | { kind: "attempt-started"; cell: string; attempt: string }
  | { kind: "attempt-finished"; cell: string; attempt: string; ms: number };

/** Where runMatrix gets its images and its Docker-in-Docker hosts; unit tests pass fakes. */
export interface RunSources {
  prepareImages(options: RunOptions): Promise<PreparedImages>;
  dindProvider(options: RunOptions, images: PreparedImages): HostProvider;
  /** why the engine no longer answers, if it does not (asked when a cell ended in error) */
  engineGone?(options: RunOptions): Promise<string | undefined>;
  /** the machine's busy CPU share since the last call (default: measured from the kernel's counters) */
  cpuBusy?: () => number;
  /** the kernel the dind hosts share (this machine's), read from inside a host of `image` before any cell runs */
  dindKernel?(provider: HostProvider, image: string): Promise<KernelCapability>;
  /** the engine that runs the dind hosts, in words ("Docker 28.0.4 (API 1.48)"), recorded with each cell */
  outerEngine?(options: RunOptions): Promise<string | undefined>;
}

const ENGINE_SOURCES: RunSources = {
  prepareImages: (options) =>
    preparePlannedImages(options.docker, options, options.matrix.iptables, options.matrix.settings, options.log),
  dindProvider: (options, images) => new DindProvider(options.docker, options.runId, images.peerTag),
  engineGone: (options) => engineUnreachable(options.docker),
  dindKernel: readSharedKernel,
  outerEngine: (options) => outerEngineVersion(options.docker),
};

export async function runMatrix(
  options: RunOptions,
  sources: RunSources = ENGINE_SOURCES,
): Promise<{ results: CellResult[]; images: PreparedImages }> {
  const { matrix, cells, engines, log } = options;
  log(`preparing images for ${engines.length} engine(s) and ${matrix.iptables.length} iptables build(s)`);
  const images = await sources.prepareImages(options);
  const dind = sources.dindProvider(options, images);
  options.onProvider?.(dind);
  const scenarios = scenariosFor(matrix.scenarios);
  // a running VM holds settings.dindSlotsPerVm of the dind slots (see AttemptSlots)
  const slots = new AttemptSlots(options.concurrency, matrix.settings.dindSlotsPerVm);
  const following =
    options.concurrencyRange && followCpu(slots, options.concurrencyRange, sources.cpuBusy ?? cpuBusySampler(), log);
  // VMs cost a core and 1.5 GiB each under emulation: they get their own, smaller pool.
  const availableBuilds = matrix.iptables.filter((b) => images.builds.get(b.name)?.ok);
  const vmCells = cells.filter(
    (c) => c.provider === "vagrant" && !whyNotRunnable(c, images) && !options.finished.has(c.id),
  );
  const vm = vmCells.length > 0 ? await startVmLane(options, images, availableBuilds) : undefined;
  if (vm?.ok) options.onProvider?.(vm.provider);
  const vmConcurrency = resolveVmConcurrency(matrix.settings.vmConcurrency);
  if (vm?.ok)
    log(
      `VM lane: up to ${vmConcurrency} VM(s) at once${matrix.settings.vmConcurrency === "auto" ? " (auto: available memory and cores)" : ""}; each running VM holds ${slots.slotsPerVm} of the ${options.concurrency} dind slots`,
    );
  const vmLimit = pLimit(vmConcurrency);
  const dindKernel = await readDindKernel(options, images, dind, sources);
  const outerEngine = await sources.outerEngine?.(options).catch(() => undefined);
  const unrunnable = new Map(
    cells.flatMap((cell) => {
      const why =
        whyNotRunnable(cell, images) ??
        kernelGate(cell, dindKernel, scenarios.get(cell.scenario)) ??
        (cell.provider === "vagrant" && vm && !vm.ok ? vm : undefined);
      return why ? [[cell.id, why] as const] : [];
    }),
  );
  const attemptsOf = (cell: Cell) => options.repeat * (1 + (options.baselineOnly ? 0 : cell.fixes.length));
  let planned = cells
    .filter((c) => !options.finished.has(c.id) && !unrunnable.has(c.id))
    .reduce((n, c) => n + attemptsOf(c), 0);
  options.onProgress?.({ kind: "planned", attempts: planned });
  /** a healthy cell's fixes skipped or checked together: fewer attempts than planned */
  const replan = (change: number) => {
    planned += change;
    if (change !== 0) options.onProgress?.({ kind: "planned", attempts: planned });
  };
  try {
    const results = await Promise.all(
      cells.map(async (cell) => {
        const earlier = options.finished.get(cell.id);
        if (earlier) return earlier;
        const started = new Date();
        const why = unrunnable.get(cell.id);
        const result = withHost(
          withKernel(
            why
              ? resultWithoutAttempts(options.runId, cell, started, why.status, why.reason)
              : await engineGoneReason(
                  () => sources.engineGone?.(options),
                  combineRepeats(
                    await Promise.all(Array.from({ length: options.repeat }, (_, i) => runCell(cell, new Date(), i))),
                  ),
                ),
            cell,
            dindKernel,
          ),
          outerEngine,
        );
        await options.onCell(result);
        const security = result.securityFindings?.length
          ? `; ${result.securityFindings.length} SECURITY finding(s)`
          : "";
        log(
          `${cell.id}: ${result.status}${result.brokenVantages.length ? ` (${result.brokenVantages.join(", ")})` : ""}${security}`,
        );
        return result;
      }),
    );
    return { results, images };
  } finally {
    following?.stop();
    await dind.close();
    if (vm?.ok) await vm.provider.close();
  }

  async function runCell(cell: Cell, started: Date, repeat: number): Promise<CellResult> {
    const scenario = scenarios.get(cell.scenario);
    const host = images.hosts.get(cell.engine.name);
    if (!scenario || !host?.ok)
      throw new Error(`cell ${cell.id} passed the runnable check without a scenario or host image`);
    const onVm = cell.provider === "vagrant" && vm?.ok ? vm : undefined;
    const inSlot = <T>(work: () => Promise<T>) => (onVm ? vmLimit(() => slots.vm(work)) : slots.dind(work));
    const hostInput: HostInput = {
      provider: onVm?.provider ?? dind,
      cell,
      settings: onVm ? { ...matrix.settings, attemptTimeoutMs: matrix.settings.vmAttemptTimeoutMs } : matrix.settings,
      hostImage: onVm?.box ?? host.tag,
      builds: availableBuilds,
      scenario,
      probeSeed: `${options.seed ?? "0"}:${cell.id}`,
      repeat,
      // a fix that needs what this machine's kernel lacks is not applicable before a dind host starts
      sharedKernel: onVm ? undefined : dindKernel,
    };
    const tracked =
      <T>(name: string, work: () => Promise<T>) =>
      async (): Promise<T> => {
        log(`${cell.id}: ${name} started`);
        options.onProgress?.({ kind: "attempt-started", cell: cell.id, attempt: name });
        const began = performance.now();
        const result = await work();
        options.onProgress?.({
          kind: "attempt-finished",
          cell: cell.id,
          attempt: name,
          ms: Math.round(performance.now() - began),
        });
        return result;
      };
    const attempt = (fixName: string | undefined): Promise<AttemptResult> => {
      const fix = fixName ? FIXES.get(fixName) : undefined;
      const moot = fix && notApplicableAtStart(hostInput, fix);
      if (moot) {
        replan(-1);
        return Promise.resolve(moot);
      }
      return inSlot(tracked(fixName ?? "baseline", () => runAttempt({ ...hostInput, fix })));
    };
    const applicable = (name: string) => {
      const fix = FIXES.get(name);
      return fix && !notApplicableAtStart(hostInput, fix) ? [fix] : [];
    };
    // Every fix gets its own fresh broken host, so one fix never inherits another's repair.
    const fixes = options.baselineOnly ? [] : cell.fixes;
    const onHealthy = matrix.settings.fixesOnHealthyBaseline;
    if (onHealthy === "each" || fixes.length === 0) {
      const [baseline, ...fixAttempts] = await Promise.all([attempt(undefined), ...fixes.map((fix) => attempt(fix))]);
      return assembleCell(options.runId, cell, started, baseline as AttemptResult, fixAttempts);
    }
    // The baseline decides how the fixes run: a cell that does not work runs every fix on its own host.
    const baseline = await attempt(undefined);
    if (!worksAsIs(baseline))
      return assembleCell(options.runId, cell, started, baseline, await Promise.all(fixes.map((fix) => attempt(fix))));
    if (onHealthy === "skip") {
      replan(-fixes.length);
      return assembleCell(options.runId, cell, started, baseline, [], { fixes, reason: FIXES_NOT_RUN_BASELINE_WORKS });
    }
    // fixes that cannot apply to the cell as configured are recorded so, without a host
    const toCheck = fixes.flatMap(applicable);
    const moot = await Promise.all(fixes.filter((name) => !toCheck.some((f) => f.name === name)).map(attempt));
    const chain = toCheck.length
      ? await inSlot(tracked(CHAINED_ATTEMPT, () => runChainedFixes(hostInput, baseline, toCheck)))
      : { ok: [], again: [] };
    replan((toCheck.length ? 1 : 0) + chain.again.length - toCheck.length);
    const alone = await Promise.all(chain.again.map((fix: Fix) => attempt(fix.name)));
    const byName = new Map([...moot, ...chain.ok, ...alone].map((a) => [a.name, a]));
    return assembleCell(
      options.runId,
      cell,
      started,
      baseline,
      fixes.flatMap((name) => byName.get(name) ?? []),
    );
  }
}

/** The cell's host as its baseline saw it (mode, cgroup, kernel) and the run's outer engine; nothing when no host started. */
export function withHost(result: CellResult, outerEngine: string | undefined): CellResult {
  return result.baseline
    ? { ...result, host: hostEnvironmentOf(result.cell.provider, result.baseline, outerEngine) }
    : result;
}

export const FIXES_NOT_RUN_BASELINE_WORKS = "not run: the baseline works (settings.fixesOnHealthyBaseline: skip)";

/** The baseline works as it is: done, nothing refused, every vantage and user action as expected. */
function worksAsIs(baseline: AttemptResult): boolean {
  return baseline.status === "done" && !baseline.refusal && baselineStatus(baseline).status === "works";
}

/**
 * The kernel of the dind hosts, read once before any dind cell runs (in a host of the first
 * such cell's image); undefined when no dind cell will run or it could not be read (logged).
 */
async function readDindKernel(
  options: RunOptions,
  images: PreparedImages,
  dind: HostProvider,
  sources: RunSources,
): Promise<KernelCapability | undefined> {
  const first = options.cells.find(
    (c) => c.provider === "dind" && !options.finished.has(c.id) && !whyNotRunnable(c, images),
  );
  const host = first && images.hosts.get(first.engine.name);
  if (!host?.ok || !sources.dindKernel) return undefined;
  try {
    const kernel = await sources.dindKernel(dind, host.tag);
    options.log(`the dind hosts' kernel (this machine's, read in a host container): ${kernelLine(kernel)}`);
    return kernel;
  } catch (error) {
    options.log(`the dind hosts' kernel could not be read: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * A cell that ended in error while the engine no longer answers says so in plain words: its
 * own error (a refused connection, a hung-up socket) would only be a symptom.
 */
async function engineGoneReason(
  engineGone: () => Promise<string | undefined> | undefined,
  result: CellResult,
): Promise<CellResult> {
  if (result.status !== "error") return result;
  const gone = await engineGone();
  if (!gone) return result;
  return {
    ...result,
    reason: `the Docker engine went away: ${gone}${result.reason ? ` (the cell saw: ${result.reason.split("\n")[0]})` : ""}`,
  };
}

function whyNotRunnable(
  cell: Cell,
  images: PreparedImages,
): { status: CellResult["status"]; reason: string } | undefined {
  if (
    cell.provider === "vagrant" &&
    !(cell.engine.source.kind === "debian" && cell.engine.source.suite === BOX_SUITE)
  ) {
    return {
      status: "unsupported",
      reason: `the VM box is Debian ${BOX_SUITE} with its own docker.io; engine ${cell.engine.name} would need a box of its own`,
    };
  }
  const build = images.builds.get(cell.iptables.name);
  if (build && !build.ok) return { status: build.status, reason: `iptables ${cell.iptables.name}: ${build.reason}` };
  const host = images.hosts.get(cell.engine.name);
  if (!host || !host.ok)
    return {
      status: host?.ok === false ? host.status : "error",
      reason: host && !host.ok ? host.reason : "no host image",
    };
  return undefined;
}
