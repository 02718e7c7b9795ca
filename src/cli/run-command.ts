import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { cpus, freemem } from "node:os";
import { join, resolve } from "node:path";
import { resolveConcurrency } from "../config/concurrency.js";
import type Docker from "dockerode";
import { applyFilters, expandMatrix, parseFilters } from "../config/expand.js";
import { loadMatrixFile } from "../config/load.js";
import { machineDebianMirror } from "../harness/apt-mirror.js";
import { assertEngineReachable } from "../harness/engine.js";
import type { HostProvider } from "../harness/host.js";
import { runMatrix, type RunProgressEvent } from "../run/runner.js";
import { sweep } from "../harness/sweep.js";
import { sweepVagrant } from "../harness/providers/vagrant.js";
import { renderSummary } from "../results/markdown.js";
import type { CellResult } from "../results/schema.js";
import { readCellResult } from "../results/upgrade.js";
import { writeAtomically, writeCellResult } from "../results/write.js";
import { KNOWN_NAMES } from "../run/registry.js";
import type { RunOptions } from "./command-options.js";
import { onShutdown } from "./shutdown.js";
import { checkOutDir, previousRun } from "./out-dir.js";
import { UserError } from "../errors.js";
import { planBaseImages } from "../harness/images/base-image.js";
import { suitesNeeded } from "../harness/images/prepare.js";
import { packageFile } from "../harness/package-files.js";

/** The user's matrix.yaml in the working directory, else the default matrix shipped with fwcompat. */
export const defaultMatrixFile = (): string => (existsSync("matrix.yaml") ? "matrix.yaml" : packageFile("matrix.yaml"));

/** Results of a previous run that finished without a harness error; --resume does not run them again. */
async function finishedCells(outDir: string): Promise<Map<string, CellResult>> {
  const dir = join(outDir, "cells");
  const finished = new Map<string, CellResult>();
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    if (!file.endsWith(".json")) continue;
    const parsed = readCellResult(JSON.parse(await readFile(join(dir, file), "utf8").catch(() => "null")));
    if (parsed.success && parsed.data.status !== "error") finished.set(parsed.data.cell.id, parsed.data);
  }
  return finished;
}

/** A live progress display, when there is one: fed the run's events, stopped before the summary is printed. */
export type ProgressSink = { event(event: RunProgressEvent): void; stop(): void };

export async function runCommand(args: RunOptions, docker: Docker, log: (line: string) => void, progress?: ProgressSink): Promise<number> {
  // Everything the user typed is checked before anything starts.
  const matrixFile = args.matrix ?? defaultMatrixFile();
  const matrix = await loadMatrixFile(matrixFile, KNOWN_NAMES);
  const cells = applyFilters(expandMatrix(matrix), parseFilters(args.filters));
  const { value: concurrency, why: concurrencyWhy } = resolveConcurrency(args.concurrency ?? matrix.settings.concurrency, { cores: cpus().length, freeMemBytes: freemem() });
  const previous = args.resume ? await previousRun(args.resume) : undefined;
  if (args.out) await checkOutDir(args.out);
  await assertEngineReachable(docker);

  const engines = matrix.engines.filter((e) => cells.some((c) => c.engine.name === e.name));
  const { plans: basePlans, mirror, summary: baseSummary } = await planBaseImages(docker, suitesNeeded(engines), await machineDebianMirror(), matrix.settings.baseImage);

  const runId = `${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${randomBytes(3).toString("hex")}`;
  const outDir = resolve(args.out ?? join("results", runId));
  await mkdir(outDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`--out ${outDir}: cannot create it (${error.code ?? error.message}); choose another output directory`);
  });
  const seed = args.seed ?? previous?.seed ?? randomBytes(4).toString("hex");
  const finished = args.resume ? await finishedCells(outDir) : new Map<string, CellResult>();
  const swept = await sweep(docker);
  const sweptVms = await sweepVagrant();
  if (swept.containers + swept.networks + swept.volumes + sweptVms > 0) {
    log(`swept ${swept.containers} containers, ${swept.networks} networks and ${sweptVms} VMs left by killed runs`);
  }

  const providers: HostProvider[] = [];
  onShutdown(async () => {
    await Promise.allSettled([...providers.map((p) => p.close()), sweep(docker, runId), sweepVagrant(runId)]);
    // A second sweep catches a container the engine was still creating during the first.
    await new Promise((r) => setTimeout(r, 500));
    await sweep(docker, runId).catch(() => undefined);
  });

  const runInfo = { runId, matrixFile, filters: args.filters, repeat: args.repeat, seed, cells: cells.length, resumed: finished.size };
  await writeAtomically(join(outDir, "run.json"), `${JSON.stringify({ ...runInfo, state: "running" }, null, 2)}\n`);
  log(baseSummary);
  log(`run ${runId}: ${cells.length} cell(s)${finished.size ? ` (${finished.size} already finished)` : ""}, concurrency ${concurrency}${concurrencyWhy ? ` (${concurrencyWhy})` : ""}, probe-order seed ${seed}, results in ${outDir}`);
  const started = performance.now();
  const { results, images } = await runMatrix({
    docker,
    runId,
    matrix,
    cells,
    engines,
    basePlans,
    mirror,
    concurrency,
    repeat: args.repeat,
    seed,
    baselineOnly: args.baselineOnly,
    finished,
    log,
    onProvider: (p) => providers.push(p),
    onCell: async (result) => void (await writeCellResult(outDir, result)),
    onProgress: progress && ((event) => progress.event(event)),
  });
  progress?.stop();
  const summary = renderSummary(results);
  await writeAtomically(join(outDir, "summary.md"), `${summary}\n`);
  const wallMs = Math.round(performance.now() - started);
  await writeAtomically(join(outDir, "run.json"), `${JSON.stringify({ ...runInfo, state: "finished", wallMs, imageTimingsMs: images.timingsMs }, null, 2)}\n`);
  process.stdout.write(`${summary}\n`);
  log(`done in ${(wallMs / 1000).toFixed(0)}s; results in ${outDir}`);
  // A reproduced failure is a result; only the harness failing makes the exit non-zero.
  return results.some((r) => r.status === "error") ? 1 : 0;
}
