import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import {
  parseSelectorPick,
  SELECTOR_PROC_NET_ENV,
  selectorScriptIn,
  type IptablesSelector,
} from "../../src/contract/iptables-selectors.js";

// The selectors, run by this machine's sh against stub iptables and a stand-in /proc/net: no
// real iptables or modprobe is reachable (no sbin on PATH; modprobe is a stub that records).
const SAFE_PATH = "/usr/bin:/bin";
const root = await mkdtemp(join(tmpdir(), "fwcompat-selectors-"));
afterAll(() => rm(root, { recursive: true, force: true }));

interface Kernel {
  /** content of each legacy table list; a missing key: the file does not exist */
  tables?: Partial<Record<"ip_tables_names" | "ip6_tables_names" | "arp_tables_names", string>>;
  /** rule lines each backend's save prints */
  legacyRules?: number;
  nftRules?: number;
  /** whether `iptables -nL` works with each backend */
  nftWorks?: boolean;
  legacyWorks?: boolean;
}

let n = 0;
async function pick(selector: IptablesSelector, kernel: Kernel) {
  const dir = join(root, `case-${n++}`);
  const bin = join(dir, "sbin");
  const procNet = join(dir, "proc-net");
  await mkdir(procNet, { recursive: true });
  const stub = async (path: string, body: string) => {
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
  };
  const save = (rules: number) =>
    `i=0; echo '*filter'; while [ $i -lt ${rules} ]; do echo "-A FORWARD -j X$i"; i=$((i+1)); done; echo COMMIT`;
  for (const [backend, works, rules] of [
    ["nft", kernel.nftWorks ?? true, kernel.nftRules ?? 0],
    ["legacy", kernel.legacyWorks ?? true, kernel.legacyRules ?? 0],
  ] as const) {
    await stub(join(dir, backend, "iptables"), works ? "exit 0" : `echo "can't initialize iptables table" >&2; exit 3`);
    await stub(join(dir, backend, "iptables-save"), save(rules));
    await stub(join(dir, backend, "ip6tables-save"), "exit 0");
  }
  await stub(join(bin, "modprobe"), `echo "$@" >> ${join(dir, "modprobe.log")}`);
  for (const [file, content] of Object.entries(kernel.tables ?? {})) await writeFile(join(procNet, file), content);
  const run = await execa(
    "sh",
    ["-c", selectorScriptIn(selector, { nft: join(dir, "nft"), legacy: join(dir, "legacy") })],
    {
      env: { PATH: `${bin}:${SAFE_PATH}`, [SELECTOR_PROC_NET_ENV]: procNet },
      extendEnv: false,
      reject: false,
    },
  );
  expect(run.exitCode).toBe(0);
  const modprobed = await readFile(join(dir, "modprobe.log"), "utf8").catch(() => "");
  return { ...parseSelectorPick(run.stdout), modprobed: modprobed.trim().split("\n").filter(Boolean) };
}

describe("docker:dind's entrypoint, rewritten", () => {
  it("a kernel without legacy (no table lists) where nf_tables works: nft, nothing loaded", async () => {
    const result = await pick("dind-entrypoint", {});
    expect(result).toMatchObject({ pick: "nft", modprobed: [] });
  });

  it("a kernel with legacy but no legacy tables in this namespace (empty lists): still nft", async () => {
    expect((await pick("dind-entrypoint", { tables: { ip_tables_names: "", ip6_tables_names: "" } })).pick).toBe("nft");
  });

  it("any non-empty legacy table list: legacy, and the reason names it", async () => {
    const result = await pick("dind-entrypoint", { tables: { ip_tables_names: "", ip6_tables_names: "filter\n" } });
    expect(result.pick).toBe("legacy");
    expect(result.why).toContain("ip6_tables_names");
  });

  it("nf_tables iptables failing: loads nf_tables, then ip_tables, and picks legacy only when legacy works", async () => {
    const works = await pick("dind-entrypoint", { nftWorks: false, legacyWorks: true });
    expect(works).toMatchObject({ pick: "legacy", modprobed: ["nf_tables", "ip_tables", "ip6_tables"] });
    const neither = await pick("dind-entrypoint", { nftWorks: false, legacyWorks: false });
    expect(neither.pick).toBe("nft");
    expect(neither.why).toMatch(/neither/);
  });
});

describe("kind's select_iptables, rewritten", () => {
  it("a fresh host (both save outputs empty) is a tie: legacy", async () => {
    const result = await pick("kind", {});
    expect(result.pick).toBe("legacy");
    expect(result.why).toMatch(/legacy save output: 0, in nf_tables save output: 0/);
  });

  it("more nf_tables rules: nft; more or as many legacy rules: legacy", async () => {
    expect((await pick("kind", { nftRules: 3, legacyRules: 1 })).pick).toBe("nft");
    expect((await pick("kind", { nftRules: 2, legacyRules: 2 })).pick).toBe("legacy");
  });
});

describe("an image that pins legacy", () => {
  it("picks legacy whatever the kernel offers", async () => {
    expect((await pick("forced-legacy", { legacyWorks: false, nftRules: 5 })).pick).toBe("legacy");
  });
});
