import { matchErrors, runStep } from "../../src/api/index.js";
import type { ScenarioContext } from "../../src/api/index.js";
import { describeTarget, nextPort, workloadRunCommand } from "./topology.js";

export const LATE_CONTAINER = "late1";
export const LATE_NETWORK = "fwc-late";

/**
 * The user's next actions on a broken host: `docker run -p` a new container and
 * `docker network create`. Failures are results: their exact text is captured.
 */
export async function tryUserActions(ctx: ScenarioContext, attempt: string): Promise<void> {
  const port = ctx.targets.find((t) => t.container === LATE_CONTAINER)?.hostPort ?? nextPort(ctx);
  const run = await runStep(
    ctx.host,
    ctx.steps,
    `${attempt}: docker run -p ${port}:80`,
    `docker rm -f ${LATE_CONTAINER} >/dev/null 2>&1; ${workloadRunCommand(LATE_CONTAINER, undefined, port)}`,
  );
  ctx.errors.push(...matchErrors(`${attempt}: docker run -p`, run.stderr + run.stdout));
  const index = ctx.targets.findIndex((t) => t.container === LATE_CONTAINER);
  if (index >= 0) ctx.targets.splice(index, 1);
  if (run.exitCode === 0) ctx.targets.push(await describeTarget(ctx, LATE_CONTAINER, port));
  const net = await runStep(
    ctx.host,
    ctx.steps,
    `${attempt}: docker network create`,
    `docker network rm ${LATE_NETWORK} >/dev/null 2>&1; docker network create ${LATE_NETWORK}`,
  );
  ctx.errors.push(...matchErrors(`${attempt}: docker network create`, net.stderr + net.stdout));
}
