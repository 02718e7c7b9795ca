/** What `run` and `gate` share: the request made of the options the user typed, and the printed outcome. */
import type { RecordedRunOutcome, RecordedRunRequest } from "../run/session/run-and-record.js";
import type { RunOptions } from "./command-options.js";

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

/** The summary on stdout and where the results are; a non-zero exit only when the harness failed. */
export function printRun(outcome: RecordedRunOutcome, log: (line: string) => void): number {
  process.stdout.write(`${outcome.summary}\n`);
  log(`done in ${(outcome.wallMs / 1000).toFixed(0)}s; results in ${outcome.outDir}`);
  // A reproduced failure is a result; only the harness failing makes the exit non-zero.
  return outcome.results.some((r) => r.status === "error") ? 1 : 0;
}
