import { READS, readHost } from "../harness/host-reads.js";
import type { ScenarioContext } from "./scenario.js";

/** The healthy rule sets (iptables-save, and nft list ruleset where the host has nft), taken just before a scenario breaks the host. */
export async function snapshotBeforeBreak(ctx: ScenarioContext): Promise<void> {
  const rules = await readHost(ctx.host, { iptables: READS.iptablesSave, nft: READS.nftRuleset });
  ctx.rulesBeforeBreak = rules.iptables;
  ctx.nftRulesBeforeBreak = rules.nft;
}
