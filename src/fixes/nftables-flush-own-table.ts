import type { Fix } from "../api/index.js";
import { mustStep, NFTABLES_CONF, nftLoad, runStep, shellQuote } from "../api/index.js";
import { restartDockerdStep } from "./restart-dockerd.js";

/**
 * `flush ruleset` replaced by deleting only the tables the config itself declares (each
 * declared first, so the delete never fails on a fresh boot): a reload then leaves the
 * tables iptables-nft holds Docker's rules in alone.
 */
export function flushOwnTablesOnly(config: string): string | undefined {
  const tables = [...new Set([...config.matchAll(/^table\s+(\S+)\s+(\S+)\s*\{/gm)].map((m) => `${m[1]} ${m[2]}`))];
  if (!/^flush ruleset\s*$/m.test(config) || tables.length === 0) return undefined;
  const ownOnly = tables.map((t) => `table ${t}\ndelete table ${t}`).join("\n");
  return config.replace(/^flush ruleset\s*$/m, ownOnly);
}

export const nftablesFlushOwnTable: Fix = {
  name: "nftables-flush-own-table",
  description: `in ${NFTABLES_CONF}, replace flush ruleset by deleting only the config's own tables; restart dockerd, then reload (nft -f) once more`,
  async apply(ctx) {
    const current = await runStep(ctx.host, ctx.steps, `read ${NFTABLES_CONF}`, `cat ${NFTABLES_CONF}`);
    const rewritten = current.exitCode === 0 ? flushOwnTablesOnly(current.stdout) : undefined;
    if (!rewritten)
      return {
        applied: false,
        reason: `${NFTABLES_CONF} has no 'flush ruleset' with tables of its own to limit it to`,
      };
    await mustStep(
      ctx.host,
      ctx.steps,
      `rewrite ${NFTABLES_CONF}`,
      `printf '%s' ${shellQuote(rewritten)} > ${NFTABLES_CONF}`,
    );
    await restartDockerdStep(ctx);
    await mustStep(ctx.host, ctx.steps, "reload: nft -f", nftLoad(NFTABLES_CONF));
    return { applied: true, note: "config limited to its own tables, dockerd restarted, config reloaded" };
  },
};
