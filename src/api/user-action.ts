import { matchErrors } from "../assertions/error-matchers.js";
import type { ExecResult } from "../contract/exec.js";
import { runStep } from "../harness/host-ops.js";
import type { ScenarioContext } from "./scenario.js";

/**
 * Runs one of the user's own actions (e.g. `docker run -p 8084:80`) as the user would, and
 * records it as a result: a failure is evidence, not a harness error. Its error text is kept
 * verbatim and matched against the known signatures.
 */
export async function tryUserAction(
  ctx: ScenarioContext,
  when: string,
  action: string,
  script: string,
  timeoutMs?: number,
): Promise<ExecResult> {
  const run = await runStep(ctx.host, ctx.steps, `${when}: ${action}`, script, timeoutMs);
  const output = `${run.stderr}${run.stdout}`;
  ctx.errors.push(...matchErrors(`${when}: ${action.replace(/\s\d+:\d+$/, "")}`, output));
  const error = run.exitCode === 0 ? "" : clipKeepingEnd(run.stderr.trim() || run.stdout.trim());
  ctx.userActions.push({ action, when, ok: run.exitCode === 0, exitCode: run.exitCode, error });
  return run;
}

const MAX_ERROR_CHARS = 2000;

/** A failing daemon's last lines say why it failed: keep the first line and the end of a long error. */
export function clipKeepingEnd(text: string): string {
  if (text.length <= MAX_ERROR_CHARS) return text;
  const first = text.split("\n", 1)[0]?.slice(0, 200) ?? "";
  return `${first}\n…\n${text.slice(text.length - (MAX_ERROR_CHARS - first.length - 3))}`;
}
