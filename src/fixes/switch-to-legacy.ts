import type { Fix } from "../api/index.js";
import { iptablesOnly } from "./firewall-backend.js";
import { switchIptables } from "./switch-iptables.js";

export const switchToLegacy: Fix = {
  name: "switch-to-legacy",
  needsLegacyXtables: true,
  description:
    "same build, legacy (x_tables) backend, then restart dockerd; nft rules already loaded stay in the kernel",
  async apply(ctx) {
    const moot = iptablesOnly(ctx);
    if (moot) return moot;
    if (ctx.current.backend === "legacy") return { applied: false, reason: "already on the legacy backend" };
    return switchIptables(ctx, ctx.current.build, "legacy");
  },
};
