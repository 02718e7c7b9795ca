import { execa } from "execa";
import { describe, expect, it } from "vitest";
import {
  admitOnlyHostsScript,
  clusterAdmissionScript,
  nodePlan,
  NODE_NETWORKS,
  readdMasqueradeScript,
} from "../../src/contract/cluster.js";

// The nft tables a multi-node cell loads in its hosts, checked by this machine's nft in a network
// namespace of their own (`nft -c`: parsed and validated by the kernel, nothing applied) — a
// keyword used as a chain name passes every string test and fails only here or in a real run.
const tableOf = (script: string): string => {
  const text = /<<'FWC_NFT'\n([\s\S]*)\nFWC_NFT$/.exec(script)?.[1];
  if (text === undefined) throw new Error(`no nft here-document in: ${script}`);
  return text;
};

const nftCheck = (table: string) =>
  execa("unshare", ["--net", "nft", "-c", "-f", "-"], { input: table, reject: false, timeout: 10_000 });

describe("the nft tables of multi-node cells load in nft", () => {
  const tables = NODE_NETWORKS.flatMap((network) => [
    { name: `admission (${network})`, table: tableOf(clusterAdmissionScript(nodePlan(1), network, true)) },
    { name: `admit only the hosts (${network})`, table: tableOf(admitOnlyHostsScript(["172.20.0.0/16"], network)) },
  ]).concat({
    name: "masquerade put back",
    table: tableOf(readdMasqueradeScript([{ subnet: "10.77.0.0/24", bridge: "docker0" }], true)),
  });

  it.each(tables)("$name", async ({ table }) => {
    const check = await nftCheck(table);
    expect(check.stderr).toBe("");
    expect(check.exitCode).toBe(0);
  });

  it("and the check refuses a keyword as a chain name (the mistake it guards against)", async () => {
    const check = await nftCheck(
      "table ip t {\n  chain mark {\n    type filter hook prerouting priority mangle;\n  }\n}",
    );
    expect(check.exitCode).not.toBe(0);
    expect(check.stderr).toContain("syntax error");
  });
});
