import type { Fix } from "../api/index.js";
import { iptablesRestore, mustStep, runStep, SAVED_IPTABLES_RULES } from "../api/index.js";
import { restartDockerdStep } from "./restart-dockerd.js";

/**
 * The saved rules restored with --noflush from now on, so a reload adds the host's rules
 * without replacing the tables Docker's chains live in. dockerd is restarted first to undo
 * the last reload, and the service reloads once more to prove the next one is harmless.
 */
export const iptablesRestoreNoflush: Fix = {
  name: "iptables-restore-noflush",
  description: `restart dockerd, then restore ${SAVED_IPTABLES_RULES} with iptables-restore --noflush (as every later reload would)`,
  async apply(ctx) {
    const saved = await runStep(ctx.host, ctx.steps, "saved ruleset present", `test -s ${SAVED_IPTABLES_RULES}`);
    if (saved.exitCode !== 0) return { applied: false, reason: `no saved ruleset at ${SAVED_IPTABLES_RULES}` };
    await restartDockerdStep(ctx);
    await mustStep(
      ctx.host,
      ctx.steps,
      "reload: iptables-restore --noflush",
      iptablesRestore(SAVED_IPTABLES_RULES, { noflush: true }),
    );
    return { applied: true, note: "dockerd restarted, then the saved rules reloaded with --noflush" };
  },
};
