import type { FixOutcome, ScenarioContext } from "../api/index.js";
import { mustStep, selectIptablesCommand } from "../api/index.js";
import type { IptablesBuild } from "../api/index.js";
import { restartDockerdStep } from "./restart-dockerd.js";

/** Makes another build (or backend) the host's iptables, then restarts dockerd as an operator would after a package change. */
export async function switchIptables(
  ctx: ScenarioContext,
  build: IptablesBuild,
  backend: "nft" | "legacy",
): Promise<FixOutcome> {
  const from = `${ctx.current.build.name} (${ctx.current.backend})`;
  await mustStep(
    ctx.host,
    ctx.steps,
    `select iptables ${build.name} ${backend}`,
    selectIptablesCommand(build, backend),
  );
  ctx.current = { ...ctx.current, build, backend };
  // A package upgrade does not re-add rules dockerd skipped; operators restart the engine after it.
  await restartDockerdStep(ctx);
  return { applied: true, note: `iptables ${from} -> ${build.name} (${backend}), then dockerd restarted` };
}
