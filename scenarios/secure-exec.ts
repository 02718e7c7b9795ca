import {
  dockerdCommand,
  IPTABLES_VERSION,
  matchErrors,
  mustStep,
  runStep,
  snapshotBeforeBreak,
  TIMEOUT_MS,
  tryUserAction,
  variantEntry,
  variantsOf,
} from "../src/api/index.js";
import type { Scenario, ScenarioContext } from "../src/api/index.js";
import { tryUserActions } from "./lib/late-workload.js";
import { standardProbes } from "./lib/probes.js";
import { apparmorConfinement } from "./lib/apparmor-confinement.js";
import { setgidStandIn, type Condition } from "./lib/secure-exec-condition.js";
import { deployTopology } from "./lib/topology.js";

/** The ways a host makes dockerd's iptables execs secure, by variant. Another lane's condition registers here in one line. */
export const CONDITIONS: Record<string, Condition> = {
  "setgid-stand-in": setgidStandIn,
  apparmor: apparmorConfinement,
};

const UNDER = "under the condition";
/** the step showing that the condition holds for the dockerd just restarted */
export const CONFIRM = "the condition on the running dockerd";

/** The operator restarts dockerd (or reboots), then runs `docker run -p` and `docker network create`: each a user action. */
async function restartAndUse(ctx: ScenarioContext, when: string, condition: Condition): Promise<void> {
  await tryUserAction(ctx, when, "restart dockerd", dockerdCommand("restart"), TIMEOUT_MS.engineRestart);
  if (condition.confirm) await runStep(ctx.host, ctx.steps, `${when}: ${CONFIRM}`, condition.confirm);
  await tryUserActions(ctx, when);
}

function conditionFor(ctx: ScenarioContext, variant: string | undefined): Condition {
  const condition = variantEntry("secure-exec", CONDITIONS, variant);
  if (!condition.lanes.includes(ctx.host.provider))
    throw new Error(
      `secure-exec:${variant} cannot be put in place on a ${ctx.host.provider} host (lanes: ${condition.lanes.join(", ")})`,
    );
  return condition;
}

/**
 * iptables 1.8.12 refuses (exit 111, no message) to run in a secure exec. What an operator
 * sees: the healthy host is put under the condition (as a package upgrade, a new confinement
 * profile, or a hardening step would), then dockerd is restarted as after a reboot, then the
 * user's next `docker run -p` and `docker network create`.
 */
export const secureExec: Scenario = {
  name: "secure-exec",
  variants: variantsOf(CONDITIONS),
  // the one condition every lane can put in place, and the only one this machine's kernel (no LSM) allows
  defaultVariant: "setgid-stand-in",
  description:
    "every iptables dockerd executes is a secure exec (AT_SECURE=1), put in place under a running dockerd; then dockerd restarted (as after an upgrade and a reboot), docker run -p and docker network create. setgid-stand-in is a labelled stand-in, not the field case: the host's iptables binaries made set-group-id to a group of their own. apparmor (VM lane) is the field case: dockerd confined by an AppArmor profile that runs iptables in a profile of its own with environment scrubbing (Px)",
  async setUp(ctx, variant) {
    const condition = conditionFor(ctx, variant);
    await deployTopology(ctx);
    await snapshotBeforeBreak(ctx);
    await mustStep(
      ctx.host,
      ctx.steps,
      `put the condition in place (${variant}${condition.labelledStandIn ? ", a stand-in" : ""}): ${condition.description}`,
      condition.script,
    );
    // what the operator's own shell shows: iptables 1.8.12 exits 111 and prints nothing
    const version = await runStep(
      ctx.host,
      ctx.steps,
      `${UNDER}: ${IPTABLES_VERSION}`,
      `${IPTABLES_VERSION}; echo "exit status $?"`,
    );
    ctx.errors.push(...matchErrors(`${UNDER}: ${IPTABLES_VERSION}`, version.stdout));
    await restartAndUse(ctx, UNDER, condition);
  },
  // the fix must hold across the next restart (a reboot) too, as the restart under the condition is the user's own action
  async retry(ctx, variant) {
    await restartAndUse(ctx, "after fix", conditionFor(ctx, variant));
  },
  probes: standardProbes,
};
