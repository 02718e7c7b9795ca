import { dirname, join, resolve } from "node:path";
import type Docker from "dockerode";
import { applyFilters, expandMatrix, namesMatch, namesOf, parseFilters, scenarioLabel } from "../config/expand.js";
import { parseYamlWithSchema, readUserFile } from "../config/yaml-schema.js";
import { defaultMatrixFile, loadMatrix } from "../run/session/matrix-file.js";
import { runAndRecord } from "../run/session/run-and-record.js";
import type { ProgressSink } from "../run/session/session.js";
import { compareResults } from "../report/compare.js";
import { evaluateGate, expectationMatches, expectationsFileSchema } from "../report/gate.js";
import { mergeResults, readResults } from "../report/merge.js";
import type { CompareOptions, GateOptions, PlanOptions, ReportOptions, SummaryOptions } from "./command-options.js";
import { finishRun, runRequest } from "./recorded-runs.js";
import { REPORT_INCOMPLETE, writeReportAndSay } from "./report-output.js";
import { onShutdown } from "./shutdown.js";
import { renderTerminalSummary, summaryWidth } from "./terminal-summary.js";
import { UserError } from "../errors.js";

type Log = (line: string) => void;

export async function reportCommand(args: ReportOptions, log: Log): Promise<number> {
  if (args.paths.length === 0)
    throw new UserError("report needs at least one result directory: fwcompat report DIR... [--out DIR]");
  const out = resolve(args.out ?? "report");
  const { code } = await writeReportAndSay(
    args.paths,
    { out, updateGoldens: args.updateGoldens, goldensDir: args.goldens },
    log,
  );
  return code;
}

/** The summary a run ends with, of recorded results: nothing is run; a result that cannot be read is named. */
export async function summaryCommand(args: SummaryOptions, log: Log): Promise<number> {
  if (args.paths.length === 0)
    throw new UserError("summary needs at least one result directory: fwcompat summary DIR...");
  const { merged, unread } = await readResults(args.paths);
  for (const { source, reason } of unread) log(`left out of the summary: ${source}: ${reason}`);
  process.stdout.write(`${renderTerminalSummary(merged.cells, { width: summaryWidth(process.stdout) })}\n`);
  return unread.length ? REPORT_INCOMPLETE : 0;
}

/** Prints the cells a matrix would run, e.g. as a GitHub Actions matrix (one shard per cell). */
export async function planCommand(args: PlanOptions): Promise<number> {
  const matrix = await loadMatrix(args.matrix ?? defaultMatrixFile());
  const cells = applyFilters(expandMatrix(matrix), parseFilters(args.filters));
  const include = cells.map((c) => ({
    cell: c.id,
    provider: c.provider,
    name: `${scenarioLabel(c)} ${c.engine.name} ${c.iptables.name}-${c.backend} ${c.daemon.name}`,
  }));
  if (args.format === "gha") process.stdout.write(`${JSON.stringify({ include })}\n`);
  else if (args.format === "json") process.stdout.write(`${JSON.stringify(include, null, 2)}\n`);
  else process.stdout.write(`${include.map((c) => c.cell).join("\n")}\n`);
  return 0;
}

export async function compareCommand(args: CompareOptions): Promise<number> {
  const [before, after] = args.paths;
  if (!before || !after || args.paths.length !== 2)
    throw new UserError("compare needs two result directories: fwcompat compare OLD NEW");
  const lines = compareResults((await mergeResults([before])).cells, (await mergeResults([after])).cells);
  process.stdout.write(lines.length ? `${lines.join("\n")}\n` : "no differences\n");
  return args.failOnChange && lines.length > 0 ? 1 : 0;
}

/**
 * Runs only the cells the expectations (and the candidate filters) select, unless given
 * results to judge, and fails with one exact line per regression.
 */
export async function gateCommand(
  args: GateOptions,
  docker: Docker,
  log: Log,
  progress?: ProgressSink,
): Promise<number> {
  if (!args.expect) throw new UserError("gate needs --expect FILE (the expectations committed in your repository)");
  const { data: file } = parseYamlWithSchema(
    await readUserFile(args.expect, "expectations file", "--expect"),
    args.expect,
    expectationsFileSchema,
  );
  const candidates = parseFilters(args.candidates);
  let resultsDir = args.results;
  let page: string | undefined;
  if (!resultsDir) {
    const matrixFile = args.matrix ?? join(dirname(args.expect), file.matrix);
    const matrix = await loadMatrix(matrixFile);
    const cells = applyFilters(applyFilters(expandMatrix(matrix), parseFilters(args.filters)), candidates).filter((c) =>
      file.expectations.some((e) => expectationMatches(e, namesOf(c))),
    );
    if (cells.length === 0)
      throw new UserError(`${args.expect}: no cell of ${matrixFile} matches both the expectations and the candidate`);
    resultsDir = resolve(args.out ?? join("results", `gate-${Date.now()}`));
    log(`gate: running ${cells.length} cell(s) the expectations need`);
    // run.json records the cells by id, the way a later run would select exactly them
    const request = runRequest(
      { ...args, out: resultsDir },
      { matrix, matrixFile, cells, filters: cells.map((c) => `cell=${c.id}`) },
    );
    const finished = await finishRun(
      await runAndRecord(docker, request, { log, progress, registerCleanup: onShutdown }),
      log,
    );
    if (finished.code !== 0)
      log("gate: some cells ended in error or were left out of the report; they count as regressions");
    page = finished.page;
  }
  const results = (await mergeResults([resultsDir])).cells.filter((r) =>
    [...candidates].every(([key, values]) => [...values].some((value) => namesMatch(r.cell, key, value))),
  );
  const outcome = evaluateGate(file.expectations, results);
  for (const line of outcome.regressions) process.stdout.write(`REGRESSION ${line}\n`);
  // With a candidate, expectations about other cells are simply not this gate's business.
  const unchecked = candidates.size > 0 ? [] : outcome.unmatched;
  for (const name of unchecked) process.stdout.write(`UNCHECKED ${name}: no result matches this expectation\n`);
  if (candidates.size > 0)
    for (const name of outcome.unmatched) process.stdout.write(`OUTSIDE THE CANDIDATE ${name}\n`);
  const failed = outcome.regressions.length + unchecked.length;
  const held = file.expectations.length - outcome.unmatched.length;
  process.stdout.write(
    failed
      ? `gate failed: ${outcome.regressions.length} regression(s), ${unchecked.length} unchecked expectation(s) over ${outcome.checkedCells} cell(s)\n`
      : `gate passed: ${held} expectation(s) held over ${outcome.checkedCells} cell(s)\n`,
  );
  if (page) log(`report: ${page}`);
  return failed ? 1 : 0;
}
