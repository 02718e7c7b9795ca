import type { ExecResult } from "./exec.js";

/**
 * Several named shell steps run by one call into a host (one `docker exec`, one ssh round
 * trip), each still kept apart: its own exit code, stdout, stderr, start time and duration.
 * The batch stops after the first step that fails, unless that step may fail.
 *
 * Each step's output is framed by lines carrying a nonce the steps cannot have printed:
 *   @@<nonce> <index> out@@      then the step's stdout
 *   @@<nonce> <index> err@@      then its stderr
 *   @@<nonce> <index> end <exit> <start epoch ms> <end epoch ms>@@
 * (a newline is printed before each marker after a section, and taken off again when parsed).
 */
export interface BatchStep {
  script: string;
  /** run the next step even when this one fails (the default stops the batch here) */
  mayFail?: boolean;
}

export interface BatchStepResult extends ExecResult {
  /** epoch milliseconds the step started, by the host's clock */
  startedAtMs: number;
}

const marker = (nonce: string, index: number, what: string) => `@@${nonce} ${index} ${what}@@`;

export function stepBatchScript(steps: readonly BatchStep[], nonce: string): string {
  const scratch = `/tmp/fwc-batch-${nonce}`;
  const body = steps.map((step, i) => {
    const stop = step.mayFail ? "" : ` [ $rc -eq 0 ] || { rm -f ${scratch}.out ${scratch}.err; exit 0; }`;
    return [
      `# fwc-step ${i} ${step.mayFail ? "continue" : "stop"}`,
      `s=$(date +%s%3N); ( ${step.script}\n) >${scratch}.out 2>${scratch}.err </dev/null; rc=$?; e=$(date +%s%3N)`,
      `printf '%s\\n' '${marker(nonce, i, "out")}'; cat ${scratch}.out; printf '\\n%s\\n' '${marker(nonce, i, "err")}'; cat ${scratch}.err`,
      `printf '\\n@@%s %d end %d %s %s@@\\n' ${nonce} ${i} $rc $s $e;${stop}`,
    ].join("\n");
  });
  return [...body, `rm -f ${scratch}.out ${scratch}.err`].join("\n");
}

/**
 * The results of the steps that ran, in order; a step cut off before its end marker (the
 * whole call timed out) is reported with the call's exit code and whatever it printed.
 */
export function parseStepBatch(output: ExecResult, nonce: string, count: number): BatchStepResult[] {
  const results: BatchStepResult[] = [];
  const text = output.stdout;
  for (let i = 0; i < count; i++) {
    const outAt = text.indexOf(`${marker(nonce, i, "out")}\n`);
    if (outAt < 0) break;
    const errAt = text.indexOf(`\n${marker(nonce, i, "err")}\n`, outAt);
    // the last marker may lack its newline where a transport trims the output's end
    const endRe = new RegExp(`\\n@@${nonce} ${i} end (-?\\d+) (\\d+) (\\d+)@@(\\n|$)`, "g");
    endRe.lastIndex = Math.max(errAt, outAt);
    const end = errAt >= 0 ? endRe.exec(text) : null;
    const stdoutStart = outAt + marker(nonce, i, "out").length + 1;
    if (errAt < 0 || !end) {
      results.push({
        exitCode: output.exitCode === 0 ? -1 : output.exitCode,
        stdout: text.slice(stdoutStart, errAt < 0 ? undefined : errAt),
        stderr: output.stderr,
        ms: 0,
        startedAtMs: Date.now(),
      });
      break;
    }
    const [, exit, start, stop] = end;
    results.push({
      exitCode: Number(exit),
      stdout: text.slice(stdoutStart, errAt),
      stderr: text.slice(errAt + marker(nonce, i, "err").length + 2, end.index),
      ms: Number(stop) - Number(start),
      startedAtMs: Number(start),
    });
  }
  return results;
}

/** The steps of a batch script and its nonce (the inverse of stepBatchScript, for stand-in hosts in tests). */
export function splitStepBatch(script: string): { nonce: string; steps: BatchStep[] } | undefined {
  const nonce = /\/tmp\/fwc-batch-([0-9a-f]+)\.out/.exec(script)?.[1];
  if (!nonce) return undefined;
  const steps: BatchStep[] = [];
  const re = new RegExp(
    `^# fwc-step \\d+ (stop|continue)\ns=\\$\\(date \\+%s%3N\\); \\( ([\\s\\S]*?)\\n\\) >/tmp/fwc-batch-${nonce}\\.out`,
    "gm",
  );
  for (const m of script.matchAll(re))
    steps.push({ script: m[2] ?? "", ...(m[1] === "continue" ? { mayFail: true } : {}) });
  return { nonce, steps };
}

/** What the batch prints for one step that ran (the inverse of parseStepBatch, for stand-in hosts in tests). */
export function frameStepResult(nonce: string, index: number, result: BatchStepResult): string {
  return `${marker(nonce, index, "out")}\n${result.stdout}\n${marker(nonce, index, "err")}\n${result.stderr}\n@@${nonce} ${index} end ${result.exitCode} ${result.startedAtMs} ${result.startedAtMs + result.ms}@@\n`;
}
