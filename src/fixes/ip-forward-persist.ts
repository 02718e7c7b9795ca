import type { Fix } from "../api/index.js";
import { mustStep, persistSysctl, SYSCTL, SYSCTL_FILES } from "../api/index.js";

/** The field report's lasting fix: forwarding on in /etc/sysctl.conf, which a kernel-parameter reload applies last. */
export const ipForwardPersist: Fix = {
  name: "ip-forward-persist",
  description: "net.ipv4.ip_forward = 1 written to /etc/sysctl.conf and applied (sysctl -p)",
  async apply(ctx) {
    await mustStep(ctx.host, ctx.steps, `forwarding on in ${SYSCTL_FILES.admin}`, persistSysctl(SYSCTL.ipForward, 1));
    return { applied: true };
  },
};
