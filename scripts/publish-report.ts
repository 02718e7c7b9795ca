/**
 * Publishes a finished run of the full default matrix as docs/compatibility/: results.json,
 * about.json, report.md and index.html. Refuses, in one line and exit 2, anything that would
 * publish less than that: an unfinished run, cells missing or extra, a cell that did not run.
 *   npm run publish-report -- RUN_DIR [--out DIR]
 */
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { expandMatrix } from "../src/config/expand.js";
import { UserError } from "../src/errors.js";
import { DEFAULT_GOLDENS_DIR } from "../src/report/goldens.js";
import { readResults } from "../src/report/merge.js";
import { cellDifference, DID_NOT_RUN, renderPublication } from "../src/report/publication.js";
import { writeAtomically } from "../src/results/write.js";
import { loadMatrix, packagedMatrixFile } from "../src/run/session/matrix-file.js";
import { aboutRun, publishableRunSchema } from "./publish/about.js";

function parsedJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(`${file}: not readable JSON (${(error as Error).message})`);
  }
}

async function publish(runDir: string, out: string): Promise<void> {
  const runFile = join(runDir, "run.json");
  const runJson = await readFile(runFile, "utf8").catch(() => {
    throw new UserError(`${runDir}: no run.json (give the output directory of a fwcompat run)`);
  });
  const parsed = publishableRunSchema.safeParse(parsedJson(runFile, runJson));
  if (!parsed.success) throw new UserError(`${runFile}: ${parsed.error.issues[0]?.message}`);
  const { machine } = parsed.data;
  if (!machine)
    throw new UserError(
      `${runFile}: run.json does not name the machine (runs record it since this version: run the matrix again)`,
    );
  const { merged, unread } = await readResults([runDir]);
  if (unread[0]) throw new UserError(`${unread[0].source}: ${unread[0].reason}`);

  const matrix = await loadMatrix(packagedMatrixFile());
  const difference = cellDifference(
    merged.cells,
    expandMatrix(matrix).map((c) => c.id),
  );
  if (difference.length)
    throw new UserError(
      `${runDir} is not a run of the full default matrix: ${difference.length} cell(s) differ (${difference[0]}…)`,
    );
  const notRun = merged.cells.filter((c) => DID_NOT_RUN.has(c.status));
  if (notRun[0])
    throw new UserError(
      `${notRun.length} cell(s) did not run (${notRun[0].cell.id}: ${notRun[0].status}); publish a run where every cell ran`,
    );

  const { files, unread: leftOut } = await renderPublication(
    merged,
    aboutRun({ ...parsed.data, machine }, matrix, merged.cells),
    DEFAULT_GOLDENS_DIR,
  );
  if (leftOut[0]) throw new UserError(`${leftOut[0].source}: ${leftOut[0].reason}`);
  await mkdir(out, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeAtomically(join(out, name), content);
  process.stdout.write(`published ${merged.cells.length} cells of run ${parsed.data.runId} in ${out}\n`);
}

const program = new Command("publish-report")
  .argument("<RUN_DIR>", "the output directory of a finished run of the default matrix")
  .option("--out <DIR>", "where the published report goes", "docs/compatibility")
  .action((runDir: string, options: { out: string }) => publish(resolve(runDir), resolve(options.out)));

program.parseAsync().catch((error: unknown) => {
  const message = error instanceof UserError ? error.message : String((error as Error).stack ?? error);
  process.stderr.write(`publish-report: ${message}\n`);
  process.exit(error instanceof UserError ? 2 : 1);
});
