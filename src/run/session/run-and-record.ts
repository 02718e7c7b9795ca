import { cpus, freemem } from "node:os";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { resolveConcurrency, type ConcurrencyChoice, type MachineCapacity } from "../../config/concurrency.js";
import type { Cell } from "../../config/expand.js";
import type { LoadedMatrix } from "../../config/schema.js";
import type { MissingSource } from "../../results/missing-source.js";
import type { CellResult } from "../../results/schema.js";
import { checkOutDir, previousRun } from "./out-dir.js";
import { newRunId, newSeed, RecordedRun } from "./recorded-run.js";
import {
  dockerSessionEngine,
  enginesOf,
  RunSession,
  type CleanupRegistrar,
  type ProgressSink,
  type SessionEngine,
} from "./session.js";

/** A run of chosen cells whose results go to an output directory (what `run` and `gate` do). */
export interface RecordedRunRequest {
  matrix: LoadedMatrix;
  matrixFile: string;
  cells: Cell[];
  /** how the cells were chosen, as run.json records it */
  filters: readonly string[];
  /** the output directory (default results/<run id>); with `resume`, the directory of the run resumed */
  out: string | undefined;
  resume: string | undefined;
  seed: string | undefined;
  concurrency: ConcurrencyChoice | undefined;
  repeat: number;
  baselineOnly: boolean;
}

export interface RunSinks {
  log: (line: string) => void;
  progress?: ProgressSink;
  registerCleanup: CleanupRegistrar;
}

export interface RecordedRunOutcome {
  results: CellResult[];
  /** the markdown summary, as summary.md holds it */
  summary: string;
  outDir: string;
  wallMs: number;
  /** builds and engines no route could supply, for the end-of-run lines that say what to provide */
  missingSources?: MissingSource[];
}

const thisMachine = (): MachineCapacity => ({ cores: cpus().length, freeMemBytes: freemem() });

/**
 * Checks what the user chose (concurrency, --resume, --out) before anything starts, opens a
 * session, records run.json (running, then finished), each cell as it finishes and the
 * summary, and closes the session.
 */
export async function runAndRecord(
  docker: Docker,
  request: RecordedRunRequest,
  sinks: RunSinks,
  engine: SessionEngine = dockerSessionEngine(docker),
  machine: MachineCapacity = thisMachine(),
): Promise<RecordedRunOutcome> {
  const { matrix, cells } = request;
  const { log, progress } = sinks;
  const {
    value: concurrency,
    why: concurrencyWhy,
    range: concurrencyRange,
  } = resolveConcurrency(request.concurrency ?? matrix.settings.concurrency, machine);
  const previous = request.resume ? await previousRun(request.resume) : undefined;
  if (request.out) await checkOutDir(request.out);

  const runId = newRunId();
  const session = await RunSession.open(
    { docker, matrix, engines: enginesOf(matrix, cells), runId, registerCleanup: sinks.registerCleanup, log },
    engine,
  );
  try {
    const record = await RecordedRun.create(resolve(request.out ?? join("results", runId)));
    const seed = request.seed ?? previous?.seed ?? newSeed();
    const finished = request.resume ? await record.finishedCells() : new Map<string, CellResult>();
    await session.sweepLeftovers(log);

    await record.running({
      runId,
      matrixFile: request.matrixFile,
      filters: request.filters,
      repeat: request.repeat,
      seed,
      cells: cells.length,
      resumed: finished.size,
      machine: await session.machine(),
    });
    log(session.images.summary);
    log(
      `run ${runId}: ${cells.length} cell(s)${finished.size ? ` (${finished.size} already finished)` : ""}, concurrency ${concurrency}${concurrencyWhy ? ` (${concurrencyWhy})` : ""}, probe-order seed ${seed}, results in ${record.dir}`,
    );
    const started = performance.now();
    const { results, images } = await session.runCells(cells, {
      concurrency,
      ...(concurrencyRange ? { concurrencyRange } : {}),
      repeat: request.repeat,
      seed,
      baselineOnly: request.baselineOnly,
      finished,
      log,
      onCell: (result) => record.cell(result),
      onProgress: progress && ((event) => progress.event(event)),
    });
    progress?.stop();
    const wallMs = Math.round(performance.now() - started);
    const summary = await record.finished(results, { wallMs, imageTimingsMs: images.timingsMs });
    const missingSources = [...images.builds.values(), ...images.hosts.values()].flatMap((state) =>
      !state.ok && state.missing ? [state.missing] : [],
    );
    return { results, summary, outDir: record.dir, wallMs, missingSources };
  } finally {
    await session.close();
  }
}
