import type { Fix, FixStart } from "../api/index.js";
import { iptablesOnly, unlessNotApplicable } from "./firewall-backend.js";
import { compareVersions } from "../api/index.js";
import type { IptablesBuild } from "../api/index.js";
import { switchIptables } from "./switch-iptables.js";

const release = (build: IptablesBuild) => build.version.split("-")[0];

/**
 * The newest release newer than the current build; of that release's builds, the newest from the
 * current build's own kind of source (upstream git upgrades to upstream git, a Debian package to
 * Debian's), else the newest of them.
 */
export function upgradeTarget(builds: readonly IptablesBuild[], current: IptablesBuild): IptablesBuild | undefined {
  const newer = builds
    .filter((b) => compareVersions(b.version, current.version) > 0)
    .sort((a, b) => compareVersions(b.version, a.version));
  const [newest] = newer;
  if (!newest) return undefined;
  const sameRelease = newer.filter((b) => release(b) === release(newest));
  return sameRelease.find((b) => b.source.kind === current.source.kind) ?? newest;
}

export const iptablesUpgrade: Fix = {
  name: "iptables-upgrade",
  description:
    "switch to the newest iptables release in the matrix newer than the cell's (that release's build from the cell's own kind of source, if there is one), then restart dockerd",
  notApplicable,
  apply: unlessNotApplicable(notApplicable, (ctx) =>
    switchIptables(ctx, upgradeTarget(ctx.builds, ctx.current.build) as IptablesBuild, ctx.current.backend),
  ),
};

function notApplicable(start: FixStart): string | undefined {
  return (
    iptablesOnly(start) ??
    (upgradeTarget(start.builds, start.current.build)
      ? undefined
      : `no available build newer than ${start.current.build.version}`)
  );
}
