import { tryUserAction } from "../../src/api/index.js";
import type { ScenarioContext } from "../../src/api/index.js";
import { describeTarget, nextPort, workloadRunCommand } from "./topology.js";

export const LATE_CONTAINER = "late1";
export const LATE_NETWORK = "fwc-late";

/**
 * The user's next actions on a broken host: `docker run -p` a new container and
 * `docker network create`. Each is recorded as a user action (ok or failed, with its exit
 * code and exact error); the new container becomes a probe target only if it runs.
 */
export async function tryUserActions(ctx: ScenarioContext, when: string): Promise<void> {
  await tryLateRun(ctx, when);
  await tryNetworkCreate(ctx, when);
}

/** `docker run -p` of a new published container on the default bridge; a probe target if it runs. */
export async function tryLateRun(ctx: ScenarioContext, when: string): Promise<void> {
  const port = ctx.targets.find((t) => t.container === LATE_CONTAINER)?.hostPort ?? nextPort(ctx);
  const run = await tryUserAction(
    ctx,
    when,
    `docker run -p ${port}:80`,
    `docker rm -f ${LATE_CONTAINER} >/dev/null 2>&1; ${workloadRunCommand(LATE_CONTAINER, undefined, port)}`,
  );
  const index = ctx.targets.findIndex((t) => t.container === LATE_CONTAINER);
  if (index >= 0) ctx.targets.splice(index, 1);
  if (run.exitCode === 0) ctx.targets.push(await describeTarget(ctx, LATE_CONTAINER, port));
}

/** `docker network create` of a new, empty network. */
export async function tryNetworkCreate(ctx: ScenarioContext, when: string): Promise<void> {
  await tryUserAction(
    ctx,
    when,
    "docker network create",
    `docker network rm ${LATE_NETWORK} >/dev/null 2>&1; docker network create ${LATE_NETWORK}`,
  );
}
