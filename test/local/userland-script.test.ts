import { mkdtempSync, rmSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { HOST_TOOLS, USERLAND, USERLAND_DIRS_ENV } from "../../src/contract/host-contract.js";
import { parseUserlandFacts } from "../../src/contract/userland-facts.js";

// fwcompat-userland run by dash (a plain POSIX sh, as in an image without bash) against stub userlands.
const SCRIPT = new URL(`../../host-files/${HOST_TOOLS.userland}`, import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "fwcompat-userland-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function stub(dir: string, name: string, body: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
  await chmod(join(dir, name), 0o755);
}

/** A userland of stubs in sbin/ and bin/ (two directories, as /usr/sbin and /usr/bin). */
async function userland(name: string, tools: Record<string, string>): Promise<string> {
  const root = join(scratch, name);
  for (const [tool, body] of Object.entries(tools))
    await stub(join(root, tool.startsWith("s/") ? "sbin" : "bin"), tool.replace(/^s\//, ""), body);
  return root;
}

const run = (root: string, ...args: string[]) =>
  execa("dash", [SCRIPT, ...args], {
    reject: false,
    env: { [USERLAND_DIRS_ENV]: `${root}/sbin ${root}/bin`, PATH: "/usr/bin:/bin" },
  });

const HARNESS_TOOLS = [
  "curl",
  "nsenter",
  "setsid",
  "mount",
  "timeout",
  "sysctl",
  "awk",
  "base64",
  "sed",
  "grep",
  "tar",
  "mktemp",
  "stat",
  "sort",
  "tr",
];
const ENGINE_TOOLS = ["s/dockerd", "s/containerd", "s/containerd-shim-runc-v2", "s/runc", "docker"];
const complete = (extra: Record<string, string>): Record<string, string> =>
  Object.fromEntries([...HARNESS_TOOLS, ...ENGINE_TOOLS].map((t) => [t, "exit 0"]).concat(Object.entries(extra)));

describe("fwcompat-userland check", () => {
  it("names each missing tool on its own line and exits 2; a complete userland passes", async () => {
    const nft = { "s/xtables-nft-multi": 'echo "$1 v1.8.9 (nf_tables)"' };
    const withoutCurl = Object.fromEntries(Object.entries(complete(nft)).filter(([tool]) => tool !== "curl"));
    const lacking = await userland("lacking", withoutCurl);
    const bad = await run(lacking, "check");
    expect(bad.exitCode).toBe(USERLAND.missingExit);
    expect(bad.stdout.split("\n")).toEqual([`${USERLAND.missingPrefix}curl (the probes)`]);
    const good = await run(await userland("complete", complete(nft)), "check");
    expect([good.exitCode, good.stdout]).toEqual([0, "userland complete"]);
  });

  it("counts a plain iptables that says (legacy) as the legacy variant, and no iptables at all as missing", async () => {
    const plain = await run(
      await userland("plain", complete({ "s/iptables": 'echo "iptables v1.8.7 (legacy)"' })),
      "check",
    );
    expect(plain.exitCode).toBe(0);
    const none = await run(await userland("none", complete({})), "check");
    expect(none.stdout).toMatch(/^missing: iptables \(no xtables-nft-multi/m);
  });
});

describe("fwcompat-userland wrap", () => {
  it("wraps both variants of a Debian-like userland and writes its provenance; a wrong claimed version fails", async () => {
    const root = await userland("debian", {
      "s/xtables-nft-multi": 'echo "$1 v1.8.9 (nf_tables) $*"',
      "s/xtables-legacy-multi": 'echo "$1 v1.8.9 (legacy) $*"',
    });
    const prefix = join(scratch, "wrapped");
    const made = await run(root, "wrap", prefix, "1.8.9-2");
    expect(made.exitCode).toBe(0);
    const save = await execa(join(prefix, "bin-legacy", "iptables-save"), ["-t", "nat"]);
    expect(save.stdout).toBe("iptables-save v1.8.9 (legacy) iptables-save -t nat");
    expect(await readFile(join(prefix, "provenance"), "utf8")).toMatch(/^package=.*\nsource=system\n$/);
    const wrong = await run(root, "wrap", join(scratch, "wrong"), "1.8.11");
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stdout).toContain("the system iptables claims 1.8.11 but its nft variant says: iptables v1.8.9");
  });

  it("uses a Fedora-like userland's named variants (iptables-nft, iptables-nft-save) when there is no multi binary", async () => {
    const root = await userland("fedora", {
      "s/iptables-nft": 'echo "iptables v1.8.10 (nf_tables)"',
      "s/iptables-nft-save": 'echo "saved by iptables-nft-save"',
    });
    const prefix = join(scratch, "fedora-wrapped");
    const made = await run(root, "wrap", prefix, "1.8.10");
    expect(made.stdout).toContain("skip legacy: this userland has no iptables of it");
    expect((await execa(join(prefix, "bin-nft", "iptables-save"))).stdout).toBe("saved by iptables-nft-save");
  });
});

describe("fwcompat-userland facts", () => {
  it("prints each tool found with its path and version, which the harness reads back", async () => {
    const root = await userland("facts", {
      "s/dockerd": 'echo "Docker version 20.10.24+dfsg1, build 297e128"',
      "s/xtables-nft-multi": 'echo "$1 v1.8.9 (nf_tables)"',
    });
    const facts = parseUserlandFacts((await run(root, "facts")).stdout);
    expect(facts?.tools.map((t) => [t.tool, t.path, t.version])).toEqual([
      ["dockerd", `${root}/sbin/dockerd`, "Docker version 20.10.24+dfsg1, build 297e128"],
      ["xtables-nft-multi", `${root}/sbin/xtables-nft-multi`, "iptables v1.8.9 (nf_tables)"],
    ]);
  });
});
