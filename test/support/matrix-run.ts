import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CellResult } from "../../src/results/schema.js";
import { runCli } from "./cli.js";
import { readCells } from "./results.js";
import { scratchDir } from "./scratch.js";

/** A real matrix run for a test file: its cells by id, run id, exit status and output. */
export interface MatrixRun {
  cells: Map<string, CellResult>;
  runId: string;
  exitCode: number | undefined;
  output: string;
  /** the cell whose id starts with `prefix`; throws with the run's output when there is none */
  cell(prefix: string): CellResult;
}

export async function runMatrixForTest(
  matrix: string,
  options: { timeoutMs: number; env?: Record<string, string> },
): Promise<MatrixRun> {
  const out = await scratchDir("fwcompat-it-");
  const run = await runCli(["run", "--matrix", matrix, "--out", out], options);
  const output = `${run.stderr}\n${run.stdout}`;
  // a run that ended before any cell (bad input, a harness error) says why
  const results = await readCells(out).catch((error: Error) => {
    throw new Error(`${matrix}: no cell results (${error.message}); exit ${run.exitCode}:\n${output.slice(-3000)}`);
  });
  const cells = new Map(results.map((result) => [result.cell.id, result]));
  return {
    cells,
    runId: JSON.parse(await readFile(join(out, "run.json"), "utf8")).runId,
    exitCode: run.exitCode,
    output,
    cell(prefix) {
      const found = [...cells.values()].find((c) => c.cell.id.startsWith(prefix));
      if (!found)
        throw new Error(`no cell ${prefix}; have ${[...cells.keys()].join(", ")}; run output:\n${output.slice(-3000)}`);
      return found;
    },
  };
}
