import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { applyFilters, expandMatrix, parseFilters } from "../config/expand.js";
import { loadMatrixFile } from "../config/load.js";
import { matrixFileSchema } from "../config/schema.js";
import { KNOWN_NAMES } from "../registry.js";
import { debianMirror } from "../harness/apt-mirror.js";
import { assertEngineReachable, connectEngine } from "../harness/engine.js";
import type { HostProvider } from "../harness/host.js";
import { runMatrix } from "../harness/runner.js";
import { sweep } from "../harness/sweep.js";
import { renderSummary } from "../results/markdown.js";
import { writeAtomically, writeCellResult } from "../results/write.js";
import { UserError } from "./user-error.js";

const USAGE = `usage: fwcompat run [--matrix FILE] [--filter key=value ...] [--concurrency N] [--out DIR] [--debug]
       fwcompat clean        remove everything left by runs that were killed
       fwcompat schema       print the JSON schema of matrix files`;

const DEFAULT_MATRIX = new URL("../../matrix.yaml", import.meta.url);

const stamp = () => new Date().toISOString().slice(11, 19);
const log = (line: string) => process.stderr.write(`[${stamp()}] ${line}\n`);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          matrix: { type: "string" },
          filter: { type: "string", multiple: true, default: [] },
          concurrency: { type: "string" },
          out: { type: "string" },
          debug: { type: "boolean", default: false },
          help: { type: "boolean", default: false },
        },
      });
    } catch (error) {
      throw new UserError(`${(error as Error).message}\n${USAGE}`);
    }
  })();
  const command = positionals[0] ?? "run";
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === "schema") {
    process.stdout.write(`${JSON.stringify(z.toJSONSchema(matrixFileSchema, { io: "input" }), null, 2)}\n`);
    return 0;
  }
  const docker = connectEngine();
  if (command === "clean") {
    await assertEngineReachable(docker);
    const count = await sweep(docker);
    log(`removed ${count.containers} containers, ${count.networks} networks, ${count.volumes} volumes left by killed runs`);
    return 0;
  }
  if (command !== "run") throw new UserError(`unknown command '${command}'\n${USAGE}`);

  // Everything the user typed is checked before anything starts.
  const matrixFile = values.matrix ?? (existsSync("matrix.yaml") ? "matrix.yaml" : DEFAULT_MATRIX.pathname);
  const matrix = await loadMatrixFile(matrixFile, KNOWN_NAMES);
  const cells = applyFilters(expandMatrix(matrix), parseFilters(values.filter ?? []));
  const concurrency = values.concurrency === undefined ? matrix.settings.concurrency : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) throw new UserError(`--concurrency '${values.concurrency}': use a whole number from 1 to 16`);
  await assertEngineReachable(docker);
  const mirror = await debianMirror();

  const runId = `${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${randomBytes(3).toString("hex")}`;
  const outDir = resolve(values.out ?? join("results", runId));
  await mkdir(outDir, { recursive: true });
  const swept = await sweep(docker);
  if (swept.containers + swept.networks + swept.volumes > 0) {
    log(`swept ${swept.containers} containers and ${swept.networks} networks left by killed runs`);
  }
  let provider: HostProvider | undefined;
  const stop = (signal: NodeJS.Signals) => {
    log(`${signal}: removing this run's hosts`);
    void Promise.allSettled([provider?.close(), sweep(docker, runId)]).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);

  log(`run ${runId}: ${cells.length} cell(s), concurrency ${concurrency}, results in ${outDir}`);
  const started = performance.now();
  const { results, images } = await runMatrix({
    docker,
    runId,
    matrix,
    cells,
    mirror,
    concurrency,
    log,
    onProvider: (p) => (provider = p),
    onCell: async (result) => void (await writeCellResult(outDir, result)),
  });
  const summary = renderSummary(results);
  await writeAtomically(join(outDir, "summary.md"), `${summary}\n`);
  await writeAtomically(
    join(outDir, "run.json"),
    `${JSON.stringify({ runId, matrixFile, cells: results.length, wallMs: Math.round(performance.now() - started), imageTimingsMs: images.timingsMs }, null, 2)}\n`,
  );
  process.stdout.write(`${summary}\n`);
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)}s; results in ${outDir}`);
  // A reproduced failure is a result; only the harness failing makes the exit non-zero.
  return results.some((r) => r.status === "error") ? 1 : 0;
}

const debug = process.argv.includes("--debug");
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UserError && !debug) {
      process.stderr.write(`fwcompat: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`fwcompat: internal error: ${debug ? (error as Error).stack : (error as Error).message} (run with --debug for details)\n`);
    process.exit(error instanceof UserError ? 2 : 1);
  },
);
