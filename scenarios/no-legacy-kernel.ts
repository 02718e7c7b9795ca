import {
  blockLegacyModulesScript,
  dockerdCommand,
  EngineRefusal,
  engineStep,
  IPTABLES_SELECTORS,
  matchErrors,
  mustStep,
  parseLegacyModules,
  parseSelectorPick,
  runStep,
  selectIptablesCommand,
  selectorScript,
  snapshotBeforeBreak,
  TIMEOUT_MS,
} from "../src/api/index.js";
import type { IptablesSelector, Scenario, ScenarioContext } from "../src/api/index.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

/** The fix an operator applies to a running host, as this project's switch-to-legacy does. */
const SWITCH_TO_LEGACY = "switch-to-legacy";
const VARIANTS: [string, ...string[]] = [...IPTABLES_SELECTORS, SWITCH_TO_LEGACY];

const isSelector = (variant: string | undefined): variant is IptablesSelector =>
  (IPTABLES_SELECTORS as readonly string[]).includes(variant ?? "");

/**
 * A host whose kernel has its own modules (a VM) is kept from loading the legacy xtables ones,
 * as on a kernel built without them; one that must already hold them is a harness failure, not
 * a kernel without legacy. A dind host shares this machine's kernel, which no host may change:
 * there the cell is the kernel-with-legacy control (its reading says which kernel it had).
 */
async function keepLegacyModulesOut(ctx: ScenarioContext): Promise<void> {
  if (ctx.host.provider === "dind") {
    await mustStep(
      ctx.host,
      ctx.steps,
      "legacy xtables left as this machine's kernel has them (a dind host shares it: the kernel-with-legacy control)",
      "true",
    );
    return;
  }
  const blocked = await mustStep(
    ctx.host,
    ctx.steps,
    "take the legacy xtables modules out of the guest's module tree (a kernel built without them)",
    blockLegacyModulesScript(),
  );
  const { before, after } = parseLegacyModules(blocked.stdout);
  if (after.length > 0)
    throw new Error(
      `legacy xtables modules already in the guest kernel and not removable: ${after.join(" ")} (loaded before: ${before.join(" ")})`,
    );
}

/** Runs the selector where the image's entrypoint would, and gives dockerd the iptables it picks. */
async function pickIptables(ctx: ScenarioContext, selector: IptablesSelector): Promise<void> {
  const run = await runStep(
    ctx.host,
    ctx.steps,
    `iptables selector ${selector}`,
    selectorScript(selector, ctx.current.build),
    TIMEOUT_MS.hostExec,
  );
  const { pick, why } = parseSelectorPick(run.stdout);
  await mustStep(ctx.host, ctx.steps, `selector ${selector} picked ${pick}: ${why}`, "true");
  ctx.current = { ...ctx.current, backend: pick };
}

/** What an operator does with switch-to-legacy on a running host: legacy iptables, then restart dockerd. */
async function switchToLegacy(ctx: ScenarioContext): Promise<void> {
  await mustStep(
    ctx.host,
    ctx.steps,
    `select iptables ${ctx.current.build.name} legacy (${SWITCH_TO_LEGACY})`,
    selectIptablesCommand(ctx.current.build, "legacy"),
  );
  ctx.current = { ...ctx.current, backend: "legacy" };
  try {
    await engineStep(ctx.host, ctx.steps, "restart dockerd", dockerdCommand("restart"), TIMEOUT_MS.engineRestart);
  } catch (error) {
    if (error instanceof EngineRefusal) ctx.errors.push(...matchErrors(error.step, error.detail));
    throw error;
  }
}

/**
 * Kernels without legacy iptables (Linux 6.17 built without CONFIG_NETFILTER_XTABLES_LEGACY,
 * RHEL 10): in a VM the legacy xtables modules are kept from loading before dockerd starts;
 * then the image's iptables selector picks the iptables dockerd gets (docker:dind's entrypoint,
 * kind's node entrypoint, an image that pins legacy), or, on a running host, the operator
 * applies switch-to-legacy. dockerd starts (or restarts) with that pick; traffic and dockerd's
 * own words tell the outcome.
 */
export const noLegacyKernel: Scenario = {
  name: "no-legacy-kernel",
  variants: VARIANTS,
  // kind's selector is the one the field reports most: on a fresh host both save outputs are empty and the tie picks legacy
  defaultVariant: "kind",
  description:
    "a kernel that cannot load the legacy xtables tables (VM: modules kept from loading; dind: this machine's kernel, the with-legacy control); an iptables selector (dind-entrypoint | kind | forced-legacy) picks dockerd's iptables before it starts, or switch-to-legacy on a running host",
  needsLegacyXtables: () => true,
  async beforeEngine(ctx, variant) {
    if (!VARIANTS.includes(variant ?? "")) throw new Error(`no-legacy-kernel has no variant '${variant}'`);
    await keepLegacyModulesOut(ctx);
    if (isSelector(variant)) await pickIptables(ctx, variant);
  },
  async setUp(ctx, variant) {
    await deployTopology(ctx);
    if (variant !== SWITCH_TO_LEGACY) return;
    await snapshotBeforeBreak(ctx);
    await switchToLegacy(ctx);
  },
  probes: standardProbes,
};
