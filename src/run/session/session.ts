import type Docker from "dockerode";
import type { ConcurrencyRange } from "../../config/concurrency.js";
import { machineFacts } from "../../harness/machine-facts.js";
import type { MachineFacts } from "../../results/machine.js";
import type { Cell } from "../../config/expand.js";
import type { Engine, IptablesBuild, LoadedMatrix, Settings } from "../../config/schema.js";
import { assertEngineReachable } from "../../harness/engine.js";
import type { HostProvider } from "../../harness/host.js";
import type { PreparedImages } from "../../harness/images/prepare.js";
import { sweepVagrant } from "../../harness/providers/vagrant.js";
import { sweep, type SweepCount } from "../../harness/sweep.js";
import type { CellResult } from "../../results/schema.js";
import { runMatrix, type RunProgressEvent, type RunSources } from "../runner.js";
import { planImages, type ImagePlan } from "./images.js";

export type { RunProgressEvent } from "../runner.js";

type Log = (line: string) => void;

/** A live progress display, when there is one: fed the run's events, stopped before the summary is printed. */
export type ProgressSink = { event(event: RunProgressEvent): void; stop(): void };

/**
 * Where a session's cleanup goes: the caller (the CLI's signal handling) keeps the closer and
 * calls it if the process is interrupted; it removes every host and VM of the run.
 */
export type CleanupRegistrar = (closer: () => Promise<unknown>) => void;

/** What a session asks of the engine and the machine; unit tests pass fakes. */
export interface SessionEngine {
  assertReachable(): Promise<unknown>;
  planImages(engines: readonly Engine[], settings: Settings, log?: Log): Promise<ImagePlan>;
  /** removes the containers, networks and volumes of `runId`, or (without it) those killed runs left */
  sweep(runId?: string): Promise<SweepCount>;
  /** the same for VMs; returns how many it removed */
  sweepVms(runId?: string): Promise<number>;
  /** how cells get their images and hosts (default: the engine's) */
  run?: RunSources;
  /** the machine and outer engine the run is on, recorded in run.json */
  machine?(): Promise<MachineFacts>;
}

export const dockerSessionEngine = (docker: Docker): SessionEngine => ({
  assertReachable: () => assertEngineReachable(docker),
  planImages: (engines, settings, log) => planImages(docker, engines, settings, log),
  sweep: (runId) => sweep(docker, runId),
  sweepVms: (runId) => sweepVagrant(runId),
  machine: () => machineFacts(docker),
});

export interface SessionOptions {
  docker: Docker;
  /** settings, declared scenarios and iptables builds of the cells */
  matrix: LoadedMatrix;
  /** the engines of every cell the session will run: their images are planned when it opens */
  engines: readonly Engine[];
  runId: string;
  registerCleanup: CleanupRegistrar;
  /** where planning says what it builds (own host images are built and checked then) */
  log?: Log;
}

export interface RunCellsOptions {
  concurrency: number;
  /** concurrency auto: how far the run may move it by the CPU it measures */
  concurrencyRange?: ConcurrencyRange;
  /** run each cell this many times, each in another probe order */
  repeat: number;
  seed?: string;
  baselineOnly: boolean;
  /** results of cells already finished (--resume): returned as they are */
  finished?: ReadonlyMap<string, CellResult>;
  /** the iptables builds installed in the hosts (default: the matrix's) */
  builds?: IptablesBuild[];
  log: Log;
  onCell: (result: CellResult) => Promise<void>;
  onProgress?: (event: RunProgressEvent) => void;
}

/** The engines of a matrix that some cell uses, in the matrix's order. */
export const enginesOf = (matrix: LoadedMatrix, cells: readonly Cell[]): Engine[] =>
  matrix.engines.filter((e) => cells.some((c) => c.engine.name === e.name));

/**
 * One run on one engine connection: its image plan, its hosts and VMs, and their removal.
 * Opening checks the engine answers and plans the images (nothing is built yet) and hands
 * the caller's cleanup registrar a closer; `runCells` runs any list of cells; `close`
 * removes whatever of the run is left.
 */
export class RunSession {
  private readonly providers: HostProvider[] = [];

  private constructor(
    private readonly options: SessionOptions,
    private readonly engine: SessionEngine,
    readonly images: ImagePlan,
  ) {}

  static async open(
    options: SessionOptions,
    engine: SessionEngine = dockerSessionEngine(options.docker),
  ): Promise<RunSession> {
    await engine.assertReachable();
    const images = await engine.planImages(options.engines, options.matrix.settings, options.log);
    const session = new RunSession(options, engine, images);
    options.registerCleanup(() => session.removeEverything());
    return session;
  }

  get runId(): string {
    return this.options.runId;
  }

  get docker(): Docker {
    return this.options.docker;
  }

  /** The machine and outer engine this session runs on, when the engine can say (fakes may not). */
  async machine(): Promise<MachineFacts | undefined> {
    return this.engine.machine?.();
  }

  /** Removes what killed runs left behind (their processes are gone); logs what it found, if anything. */
  async sweepLeftovers(log: Log): Promise<void> {
    const swept = await this.engine.sweep();
    const sweptVms = await this.engine.sweepVms();
    if (swept.containers + swept.networks + swept.volumes + sweptVms > 0) {
      log(`swept ${swept.containers} containers, ${swept.networks} networks and ${sweptVms} VMs left by killed runs`);
    }
  }

  async runCells(cells: Cell[], options: RunCellsOptions): Promise<{ results: CellResult[]; images: PreparedImages }> {
    const { matrix, docker, runId } = this.options;
    return runMatrix(
      {
        docker,
        runId,
        matrix: options.builds ? { ...matrix, iptables: options.builds } : matrix,
        cells,
        engines: this.images.engines,
        basePlans: this.images.basePlans,
        mirror: this.images.mirror,
        ...(this.images.ownHosts ? { ownHosts: this.images.ownHosts } : {}),
        concurrency: options.concurrency,
        ...(options.concurrencyRange ? { concurrencyRange: options.concurrencyRange } : {}),
        repeat: options.repeat,
        seed: options.seed,
        baselineOnly: options.baselineOnly,
        finished: options.finished ?? new Map(),
        log: options.log,
        onCell: options.onCell,
        onProvider: (provider) => this.providers.push(provider),
        onProgress: options.onProgress,
      },
      this.engine.run,
    );
  }

  /** Removes the run's containers, networks and volumes that are still there. */
  async close(): Promise<void> {
    await this.engine.sweep(this.runId).catch(() => undefined);
  }

  private async removeEverything(): Promise<void> {
    const { runId } = this;
    await Promise.allSettled([
      ...this.providers.map((p) => p.close()),
      this.engine.sweep(runId),
      this.engine.sweepVms(runId),
    ]);
    // A second sweep catches a container the engine was still creating during the first.
    await new Promise((r) => setTimeout(r, 500));
    await this.engine.sweep(runId).catch(() => undefined);
  }
}
