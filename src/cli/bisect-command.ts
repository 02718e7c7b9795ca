import { appendFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { UserError } from "../errors.js";
import { runBisect } from "../run/bisect/bisect.js";
import { planBisect, type BisectRequest } from "../run/bisect/plan.js";
import { sessionJudge } from "../run/bisect/session-judge.js";
import { defaultMatrixFile, loadMatrix } from "../run/session/matrix-file.js";
import { newRunId } from "../run/session/recorded-run.js";
import { RunSession } from "../run/session/session.js";
import type { BisectOptions } from "./command-options.js";
import { onShutdown } from "./shutdown.js";

/** `fwcompat bisect`: 0 when the flip was found, 2 for bad input (one line), 1 when the harness failed. */
export async function bisectCommand(args: BisectOptions, docker: Docker, log: (line: string) => void): Promise<number> {
  const matrixFile = args.matrix ?? defaultMatrixFile();
  const matrix = await loadMatrix(matrixFile);
  const request: BisectRequest = { ...args, matrix, matrixFile };
  // Everything the user typed is checked against the repository before anything is built.
  const plan = await planBisect(request);

  const runId = newRunId("bisect-");
  const outDir = resolve(args.out ?? join("results", runId));
  const logFile = join(outDir, "bisect.log");
  // Harness detail (image builds, host steps) goes to bisect.log; the terminal gets one line per commit.
  const detail = (line: string) => appendFileSync(logFile, `[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const say = (line: string) => {
    process.stdout.write(`${line}\n`);
    detail(line);
  };
  const session = await RunSession.open({
    docker,
    matrix,
    engines: plan.cell ? [plan.cell.engine] : [],
    runId,
    registerCleanup: onShutdown,
  });
  await mkdir(outDir, { recursive: true });
  log(`bisect ${runId}: results in ${outDir}`);

  const judge = await sessionJudge(session, plan, matrix.settings, outDir, detail);
  try {
    await runBisect(plan, judge, { runId, outDir, say });
    log(
      `bisect.json, bisect.log${plan.cell ? " and the cells" : ""} in ${outDir}; fwcompat report ${outDir} renders them`,
    );
    return 0;
  } catch (error) {
    if (error instanceof UserError) throw error;
    log(`bisect failed: ${(error as Error).message} (what was judged so far is in ${join(outDir, "bisect.json")})`);
    return 1;
  } finally {
    await session.close();
  }
}
