import { iptablesSave, nftRuleset } from "../harness/host-ops.js";
import type { ScenarioContext } from "./scenario.js";

/** The healthy rule sets (iptables-save, and nft list ruleset where the host has nft), taken just before a scenario breaks the host. */
export async function snapshotBeforeBreak(ctx: ScenarioContext): Promise<void> {
  ctx.rulesBeforeBreak = await iptablesSave(ctx.host);
  ctx.nftRulesBeforeBreak = await nftRuleset(ctx.host);
}
