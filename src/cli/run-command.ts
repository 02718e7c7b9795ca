import type Docker from "dockerode";
import { applyFilters, expandMatrix, parseFilters } from "../config/expand.js";
import { defaultMatrixFile, loadMatrix } from "../run/session/matrix-file.js";
import { runAndRecord } from "../run/session/run-and-record.js";
import type { ProgressSink } from "../run/session/session.js";
import type { RunOptions } from "./command-options.js";
import { finishRun, runRequest } from "./recorded-runs.js";
import { onShutdown } from "./shutdown.js";

export async function runCommand(
  args: RunOptions,
  docker: Docker,
  log: (line: string) => void,
  progress?: ProgressSink,
): Promise<number> {
  // What the user typed is checked before anything starts: the matrix and filters here, the rest as the session opens.
  const matrixFile = args.matrix ?? defaultMatrixFile();
  const matrix = await loadMatrix(matrixFile);
  const cells = applyFilters(expandMatrix(matrix), parseFilters(args.filters));
  const outcome = await runAndRecord(docker, runRequest(args, { matrix, matrixFile, cells, filters: args.filters }), {
    log,
    progress,
    registerCleanup: onShutdown,
  });
  return (await finishRun(outcome, log)).code;
}
