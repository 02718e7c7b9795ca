import { machineKernelWithoutLegacy, type Fix, type FixStart } from "../api/index.js";
import { iptablesOnly, unlessNotApplicable } from "./firewall-backend.js";
import { switchIptables } from "./switch-iptables.js";

export const switchToLegacy: Fix = {
  name: "switch-to-legacy",
  description:
    "same build, legacy (x_tables) backend, then restart dockerd; nft rules already loaded stay in the kernel",
  notApplicable,
  apply: unlessNotApplicable(notApplicable, (ctx) => switchIptables(ctx, ctx.current.build, "legacy")),
};

function notApplicable(start: FixStart): string | undefined {
  const noLegacy = machineKernelWithoutLegacy(start.sharedKernel);
  return (
    iptablesOnly(start) ??
    (start.current.backend === "legacy" ? "already on the legacy backend" : undefined) ??
    (noLegacy ? `${noLegacy}, and switch-to-legacy needs them` : undefined)
  );
}
