import type { Fix } from "../api/index.js";
import { iptablesOnly } from "./firewall-backend.js";
import { compareVersions } from "../api/index.js";
import type { IptablesBuild } from "../api/index.js";
import { switchIptables } from "./switch-iptables.js";

/** The newest build newer than the current one, if any. */
export function upgradeTarget(builds: readonly IptablesBuild[], current: IptablesBuild): IptablesBuild | undefined {
  const newer = builds.filter((b) => compareVersions(b.version, current.version) > 0);
  return newer.sort((a, b) => compareVersions(b.version, a.version))[0];
}

export const iptablesUpgrade: Fix = {
  name: "iptables-upgrade",
  description: "switch to the newest iptables build in the matrix that is newer than the cell's, then restart dockerd",
  async apply(ctx) {
    const moot = iptablesOnly(ctx);
    if (moot) return moot;
    const target = upgradeTarget(ctx.builds, ctx.current.build);
    if (!target) return { applied: false, reason: `no available build newer than ${ctx.current.build.version}` };
    return switchIptables(ctx, target, ctx.current.backend);
  },
};
