import type { Fix, FixStart } from "../api/index.js";
import { iptablesOnly, unlessNotApplicable } from "./firewall-backend.js";
import { compareVersions } from "../api/index.js";
import type { IptablesBuild } from "../api/index.js";
import { switchIptables } from "./switch-iptables.js";

/** Builds older than this are downgrade targets. */
export const DOWNGRADE_BELOW = "1.8.11";
/** The release the field report recommends going back to; any other target is a fallback. */
export const RECOMMENDED_DOWNGRADE = "1.8.10";

/** The newest build older than both 1.8.11 and the current one, if any. */
export function downgradeTarget(builds: readonly IptablesBuild[], current: IptablesBuild): IptablesBuild | undefined {
  const older = builds.filter(
    (b) => compareVersions(b.version, DOWNGRADE_BELOW) < 0 && compareVersions(b.version, current.version) < 0,
  );
  return older.sort((a, b) => compareVersions(b.version, a.version))[0];
}

const isRecommended = (build: IptablesBuild) => build.version.split("-")[0] === RECOMMENDED_DOWNGRADE;

export const iptablesDowngrade: Fix = {
  name: "iptables-downgrade",
  description: `switch to ${RECOMMENDED_DOWNGRADE} (the field report's advice), else the newest available build older than ${DOWNGRADE_BELOW} as a labelled fallback, then restart dockerd`,
  notApplicable,
  apply: unlessNotApplicable(notApplicable, async (ctx) => {
    const target = downgradeTarget(ctx.builds, ctx.current.build) as IptablesBuild;
    const from = ctx.current.build;
    const outcome = await switchIptables(ctx, target, ctx.current.backend);
    if (!outcome.applied || isRecommended(target)) return outcome;
    const why = ctx.builds.some(isRecommended)
      ? `not ${RECOMMENDED_DOWNGRADE}: the cell's ${from.name} is not newer than it`
      : `fallback: no ${RECOMMENDED_DOWNGRADE} build available`;
    return { ...outcome, note: `${outcome.note} (${why})` };
  }),
};

function notApplicable(start: FixStart): string | undefined {
  return (
    iptablesOnly(start) ??
    (downgradeTarget(start.builds, start.current.build)
      ? undefined
      : `no available build older than ${DOWNGRADE_BELOW} and ${start.current.build.version}`)
  );
}
