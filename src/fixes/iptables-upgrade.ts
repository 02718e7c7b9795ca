import type { Fix } from "../api/index.js";
import { iptablesOnly } from "./firewall-backend.js";
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
  async apply(ctx) {
    const moot = iptablesOnly(ctx);
    if (moot) return moot;
    const target = upgradeTarget(ctx.builds, ctx.current.build);
    if (!target) return { applied: false, reason: `no available build newer than ${ctx.current.build.version}` };
    return switchIptables(ctx, target, ctx.current.backend);
  },
};
