import { describe, expect, it } from "vitest";
import type { ScenarioContext } from "../../src/api/index.js";
import type { IptablesBuild } from "../../src/config/schema.js";
import { iptablesDowngrade } from "../../src/fixes/iptables-downgrade.js";

const build = (name: string, version: string): IptablesBuild => ({
  name,
  version,
  source: { kind: "debian", suite: "trixie", version },
  alternatives: [],
});

/** A host on which every command succeeds: enough to see which build the fix picks and how it labels it. */
function contextWith(builds: IptablesBuild[], current: IptablesBuild): { ctx: ScenarioContext; commands: string[] } {
  const commands: string[] = [];
  const host = {
    sh: async (script: string) => (commands.push(script), { exitCode: 0, stdout: "", stderr: "", ms: 1 }),
  };
  const ctx = {
    host,
    steps: [],
    builds,
    current: { build: current, backend: "nft", daemonOptions: {} },
  } as unknown as ScenarioContext;
  return { ctx, commands };
}

describe("iptables-downgrade", () => {
  it("goes to 1.8.10 when a 1.8.10 build is there, with no fallback label", async () => {
    const current = build("1.8.11", "1.8.11");
    const { ctx, commands } = contextWith([build("1.8.9", "1.8.9-2"), build("1.8.10", "1.8.10"), current], current);
    const outcome = await iptablesDowngrade.apply(ctx);
    expect(outcome).toEqual({ applied: true, note: "iptables 1.8.11 (nft) -> 1.8.10 (nft), then dockerd restarted" });
    expect(commands[0]).toMatch(/fwcompat-select-iptables 1\.8\.10 nft/);
  });

  it("from 1.8.10 itself it goes further back and says why it is not 1.8.10", async () => {
    const current = build("1.8.10", "1.8.10");
    const { ctx } = contextWith([build("1.8.9", "1.8.9-2"), current, build("1.8.11", "1.8.11")], current);
    const outcome = await iptablesDowngrade.apply(ctx);
    expect(outcome).toEqual({
      applied: true,
      note: "iptables 1.8.10 (nft) -> 1.8.9 (nft), then dockerd restarted (not 1.8.10: the cell's 1.8.10 is not newer than it)",
    });
  });

  it("falls back to an older build only without 1.8.10, and says so", async () => {
    const current = build("1.8.11", "1.8.11");
    const { ctx } = contextWith([build("1.8.9", "1.8.9-2"), current], current);
    const outcome = await iptablesDowngrade.apply(ctx);
    expect(outcome).toEqual({
      applied: true,
      note: "iptables 1.8.11 (nft) -> 1.8.9 (nft), then dockerd restarted (fallback: no 1.8.10 build available)",
    });
  });
});
