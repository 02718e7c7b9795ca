import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { loadMatrixFile } from "../config/load.js";
import { UserError } from "../errors.js";
import { machineDebianMirror } from "../harness/apt-mirror.js";
import { assertEngineReachable } from "../harness/engine.js";
import type { HostProvider } from "../harness/host.js";
import { ensureBaseImage, planBaseImages } from "../harness/images/base-image.js";
import { readHostFiles, suitesNeeded } from "../harness/images/prepare.js";
import { sweep } from "../harness/sweep.js";
import { writeCellResult } from "../results/write.js";
import { runBisect } from "../run/bisect/bisect.js";
import { probeJudge, trafficJudge, type JudgeContext } from "../run/bisect/judges.js";
import { planBisect, type BisectRequest } from "../run/bisect/plan.js";
import { KNOWN_NAMES } from "../run/registry.js";
import type { BisectOptions } from "./command-options.js";
import { onShutdown } from "./shutdown.js";

const DEFAULT_MATRIX = new URL("../../matrix.yaml", import.meta.url).pathname;

/** `fwcompat bisect`: 0 when the flip was found, 2 for bad input (one line), 1 when the harness failed. */
export async function bisectCommand(args: BisectOptions, docker: Docker, log: (line: string) => void): Promise<number> {
  const matrixFile = args.matrix ?? (existsSync("matrix.yaml") ? "matrix.yaml" : DEFAULT_MATRIX);
  const matrix = await loadMatrixFile(matrixFile, KNOWN_NAMES);
  const request: BisectRequest = { ...args, matrix, matrixFile };
  // Everything the user typed is checked against the repository before anything is built.
  const plan = await planBisect(request);
  await assertEngineReachable(docker);
  const { plans: basePlans, mirror } = await planBaseImages(docker, suitesNeeded(plan.cell ? [plan.cell.engine] : []), await machineDebianMirror(), matrix.settings.baseImage);

  const runId = `bisect-${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${randomBytes(3).toString("hex")}`;
  const outDir = resolve(args.out ?? join("results", runId));
  await mkdir(outDir, { recursive: true });
  const logFile = join(outDir, "bisect.log");
  // Harness detail (image builds, host steps) goes to bisect.log; the terminal gets one line per commit.
  const detail = (line: string) => appendFileSync(logFile, `[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const say = (line: string) => {
    process.stdout.write(`${line}\n`);
    detail(line);
  };
  const providers: HostProvider[] = [];
  onShutdown(async () => {
    await Promise.allSettled([...providers.map((p) => p.close()), sweep(docker, runId)]);
  });
  log(`bisect ${runId}: results in ${outDir}`);

  const bases = new Map<string, string>();
  for (const basePlan of basePlans) bases.set(basePlan.suite, await ensureBaseImage(docker, basePlan, { suite: basePlan.suite, mirror, log: detail }));
  const hostFiles = await readHostFiles();
  const context: JudgeContext = {
    docker,
    runId,
    plan,
    settings: matrix.settings,
    cprobeScript: hostFiles["bin/fwcompat-cprobe"] as string,
    git: { docker, settings: matrix.settings, baseTag: bases.get("trixie") as string, wrappers: hostFiles["bin/fwcompat-make-wrappers"] as string, log: detail },
  };
  const judge = plan.cell
    ? trafficJudge({
        ...context,
        cell: plan.cell,
        basePlans,
        debianMirror: mirror,
        onCell: async (result) => void (await writeCellResult(outDir, result)),
        onProvider: (provider) => providers.push(provider),
      })
    : probeJudge(context);
  try {
    await runBisect(plan, judge, { runId, outDir, say });
    log(`bisect.json, bisect.log${plan.cell ? " and the cells" : ""} in ${outDir}; fwcompat report ${outDir} renders them`);
    return 0;
  } catch (error) {
    if (error instanceof UserError) throw error;
    log(`bisect failed: ${(error as Error).message} (what was judged so far is in ${join(outDir, "bisect.json")})`);
    return 1;
  } finally {
    await sweep(docker, runId).catch(() => undefined);
  }
}
