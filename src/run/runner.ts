import type Docker from "dockerode";
import pLimit from "p-limit";
import type { Cell } from "../config/expand.js";
import type { Engine, LoadedMatrix } from "../config/schema.js";
import type { BasePlan } from "../harness/images/base-image.js";
import { FIXES } from "../fixes/index.js";
import type { AttemptResult, CellResult } from "../results/schema.js";
import { combineRepeats } from "../results/repeats.js";
import { runAttempt } from "./attempt.js";
import { scenariosFor } from "./registry.js";
import { assembleCell, resultWithoutAttempts } from "./cell-status.js";
import { prepareImages, type PreparedImages } from "../harness/images/prepare.js";
import { DindProvider } from "../harness/providers/dind.js";
import type { HostProvider } from "../harness/host.js";
import { BOX_SUITE } from "../harness/vagrant/box.js";
import { startVmLane } from "../harness/vagrant/lane.js";

export interface RunOptions {
  docker: Docker;
  runId: string;
  matrix: LoadedMatrix;
  cells: Cell[];
  /** the engines the cells use, and how their base images will be had (planned before the run starts) */
  engines: Engine[];
  basePlans: BasePlan[];
  mirror: string;
  concurrency: number;
  /** run each cell this many times; disagreeing repeats make it flaky */
  repeat: number;
  /** skip every fix: baseline attempts only */
  baselineOnly: boolean;
  /** results of cells already finished (--resume): they are not run again */
  finished: ReadonlyMap<string, CellResult>;
  log: (line: string) => void;
  /** called the moment a cell is finished, so nothing finished is lost */
  onCell: (result: CellResult) => Promise<void>;
  /** every provider is handed out so a signal handler can close it */
  onProvider?: (provider: HostProvider) => void;
}

export async function runMatrix(options: RunOptions): Promise<{ results: CellResult[]; images: PreparedImages }> {
  const { docker, matrix, cells, engines, log } = options;
  log(`preparing images for ${engines.length} engine(s) and ${matrix.iptables.length} iptables build(s)`);
  const images = await prepareImages(docker, {
    engines,
    builds: matrix.iptables,
    basePlans: options.basePlans,
    settings: matrix.settings,
    mirror: options.mirror,
    log,
  });
  const dind = new DindProvider(docker, options.runId, images.peerTag);
  options.onProvider?.(dind);
  const scenarios = scenariosFor(matrix.scenarios);
  const limit = pLimit(options.concurrency);
  // VMs cost a core and 1.5 GiB each under emulation: they get their own, smaller pool.
  const vmLimit = pLimit(matrix.settings.vmConcurrency);
  const availableBuilds = matrix.iptables.filter((b) => images.builds.get(b.name)?.ok);
  const vmCells = cells.filter((c) => c.provider === "vagrant" && !whyNotRunnable(c, images) && !options.finished.has(c.id));
  const vm = vmCells.length > 0 ? await startVmLane(options, images, availableBuilds) : undefined;
  if (vm?.ok) options.onProvider?.(vm.provider);
  try {
    const results = await Promise.all(
      cells.map(async (cell) => {
        const earlier = options.finished.get(cell.id);
        if (earlier) return earlier;
        const started = new Date();
        const unrunnable = whyNotRunnable(cell, images) ?? (cell.provider === "vagrant" && vm && !vm.ok ? vm : undefined);
        const result = unrunnable
          ? resultWithoutAttempts(options.runId, cell, started, unrunnable.status, unrunnable.reason)
          : combineRepeats(await Promise.all(Array.from({ length: options.repeat }, () => runCell(cell, new Date()))));
        await options.onCell(result);
        const security = result.securityFindings?.length ? `; ${result.securityFindings.length} SECURITY finding(s)` : "";
        log(`${cell.id}: ${result.status}${result.brokenVantages.length ? ` (${result.brokenVantages.join(", ")})` : ""}${security}`);
        return result;
      }),
    );
    return { results, images };
  } finally {
    await dind.close();
    if (vm?.ok) await vm.provider.close();
  }

  async function runCell(cell: Cell, started: Date): Promise<CellResult> {
    const scenario = scenarios.get(cell.scenario);
    const host = images.hosts.get(cell.engine.name);
    if (!scenario || !host?.ok) throw new Error(`cell ${cell.id} passed the runnable check without a scenario or host image`);
    const onVm = cell.provider === "vagrant" && vm?.ok ? vm : undefined;
    const attempt = (fixName: string | undefined) =>
      (onVm ? vmLimit : limit)(() => {
        log(`${cell.id}: ${fixName ?? "baseline"} started`);
        return runAttempt({
          provider: onVm?.provider ?? dind,
          cell,
          settings: onVm ? { ...matrix.settings, attemptTimeoutMs: matrix.settings.vmAttemptTimeoutMs } : matrix.settings,
          hostImage: onVm?.box ?? host.tag,
          builds: availableBuilds,
          scenario,
          fix: fixName ? FIXES.get(fixName) : undefined,
        });
      });
    // Every fix gets its own fresh broken host, so one fix never inherits another's repair.
    const fixes = options.baselineOnly ? [] : cell.fixes;
    const [baseline, ...fixAttempts] = await Promise.all([attempt(undefined), ...fixes.map((fix) => attempt(fix))]);
    return assembleCell(options.runId, cell, started, baseline as AttemptResult, fixAttempts);
  }
}

function whyNotRunnable(cell: Cell, images: PreparedImages): { status: CellResult["status"]; reason: string } | undefined {
  if (cell.provider === "vagrant" && !(cell.engine.source.kind === "debian" && cell.engine.source.suite === BOX_SUITE)) {
    return { status: "unsupported", reason: `the VM box is Debian ${BOX_SUITE} with its own docker.io; engine ${cell.engine.name} would need a box of its own` };
  }
  const build = images.builds.get(cell.iptables.name);
  if (build && !build.ok) return { status: build.status, reason: `iptables ${cell.iptables.name}: ${build.reason}` };
  const host = images.hosts.get(cell.engine.name);
  if (!host || !host.ok) return { status: host?.ok === false ? host.status : "error", reason: host && !host.ok ? host.reason : "no host image" };
  return undefined;
}
