import type { Fix } from "../api/index.js";
import { iptablesOnly } from "./firewall-backend.js";
import { compareVersions } from "../api/index.js";
import type { IptablesBuild } from "../api/index.js";
import { switchIptables } from "./switch-iptables.js";

/** The release the field report recommends going back to; older builds are the fallback. */
export const DOWNGRADE_BELOW = "1.8.11";

/** The newest build older than both 1.8.11 and the current one, if any. */
export function downgradeTarget(builds: readonly IptablesBuild[], current: IptablesBuild): IptablesBuild | undefined {
  const older = builds.filter((b) => compareVersions(b.version, DOWNGRADE_BELOW) < 0 && compareVersions(b.version, current.version) < 0);
  return older.sort((a, b) => compareVersions(b.version, a.version))[0];
}

export const iptablesDowngrade: Fix = {
  name: "iptables-downgrade",
  description: "switch to the newest available build older than 1.8.11 (1.8.10 when obtainable), then restart dockerd",
  async apply(ctx) {
    const moot = iptablesOnly(ctx);
    if (moot) return moot;
    const target = downgradeTarget(ctx.builds, ctx.current.build);
    if (!target) return { applied: false, reason: `no available build older than ${DOWNGRADE_BELOW} and ${ctx.current.build.version}` };
    return switchIptables(ctx, target, ctx.current.backend);
  },
};
