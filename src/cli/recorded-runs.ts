/** What `run` and `gate` share: the request made of the options the user typed, and the printed outcome. */
import { join } from "node:path";
import type { RecordedRunOutcome, RecordedRunRequest } from "../run/session/run-and-record.js";
import type { RunOptions } from "./command-options.js";
import { unavailableSummary } from "../report/unavailable-summary.js";
import { writeReportAndSay } from "./report-output.js";
import { renderTerminalSummary, summaryWidth } from "./terminal-summary.js";

/** A recorded run of these cells with the run options the user typed. */
export const runRequest = (
  args: RunOptions,
  chosen: Pick<RecordedRunRequest, "matrix" | "matrixFile" | "cells" | "filters">,
): RecordedRunRequest => ({
  ...chosen,
  out: args.out,
  resume: args.resume,
  seed: args.seed,
  concurrency: args.concurrency,
  repeat: args.repeat,
  baselineOnly: args.baselineOnly,
});

/**
 * The compact summary on stdout (summary.md keeps the full table), where the results are, and their report written beside them
 * (index.html, report.md, junit.xml, results.json), its page named last. A non-zero exit
 * only when the harness failed (1) or a result could not be read for the report (3).
 */
export async function finishRun(
  outcome: RecordedRunOutcome,
  log: (line: string) => void,
): Promise<{ code: number; page: string }> {
  const fullTable = join(outcome.outDir, "summary.md");
  process.stdout.write(
    `${renderTerminalSummary(outcome.results, { width: summaryWidth(process.stdout), fullTable })}\n`,
  );
  for (const line of unavailableSummary(outcome.results, outcome.missingSources)) log(line);
  log(`done in ${(outcome.wallMs / 1000).toFixed(0)}s; results in ${outcome.outDir}`);
  const report = await writeReportAndSay([outcome.outDir], { out: outcome.outDir, updateGoldens: false }, log);
  // A reproduced failure is a result; only the harness failing makes the exit non-zero.
  const code = outcome.results.some((r) => r.status === "error") ? 1 : report.code;
  return { code, page: report.page };
}
