import type { Settings } from "../../config/schema.js";
import { HOST_TOOLS } from "../../contract/host-contract.js";
import { writeCellResult } from "../../results/write.js";
import { ensureBaseImages, readHostFiles } from "../session/images.js";
import type { RunSession } from "../session/session.js";
import { probeJudge, trafficJudge, type Judge, type JudgeContext } from "./judges.js";
import type { BisectPlan } from "./plan.js";

/**
 * The judge a bisect plan asks for, building each commit on the session's base images and
 * (--by traffic) running its one cell in the session, the cell's result written to outDir.
 */
export async function sessionJudge(
  session: RunSession,
  plan: BisectPlan,
  settings: Settings,
  outDir: string,
  log: (line: string) => void,
): Promise<Judge> {
  const { docker, runId } = session;
  const bases = await ensureBaseImages(docker, session.images, log);
  const hostFiles = await readHostFiles();
  const context: JudgeContext = {
    docker,
    runId,
    plan,
    settings,
    cprobeScript: hostFiles[`bin/${HOST_TOOLS.checkProbe}`] as string,
    git: {
      docker,
      settings,
      baseTag: bases.get("trixie") as string,
      wrappers: hostFiles[`bin/${HOST_TOOLS.makeWrappers}`] as string,
      log,
    },
  };
  if (!plan.cell) return probeJudge(context);
  return trafficJudge({
    ...context,
    cell: plan.cell,
    runCell: async (cell, build) => {
      const { results } = await session.runCells([cell], {
        builds: [build],
        concurrency: 1,
        repeat: 1,
        baselineOnly: true,
        log,
        onCell: async (result) => void (await writeCellResult(outDir, result)),
      });
      const [result] = results;
      if (!result) throw new Error(`no result for ${build.name}`);
      return result;
    },
  });
}
