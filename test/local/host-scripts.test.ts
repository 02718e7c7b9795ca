import { readdirSync } from "node:fs";
import { chmod, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import {
  HOST_FACT_KEYS,
  HOST_TOOLS,
  hostFactsScript,
  parseCheckProbe,
  parseKeyValueLines,
  SHIM_ENV,
} from "../../src/contract/host-contract.js";
import { parseCall, parseTrace } from "../../src/assertions/trace.js";
import { compiledShimScratch } from "../support/shim.js";

// The in-host tools of the host contract, run by this machine's cc and sh against stubs.
const HOST_FILES = new URL("../../host-files/", import.meta.url).pathname;
// No /usr/sbin: whatever a stub does not cover, this machine's own iptables is never reached.
const SAFE_PATH = "/usr/bin:/bin";

const scratch = compiledShimScratch("fwcompat-contract-");

async function stub(dir: string, name: string, body: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, `#!/bin/bash\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

describe("the iptables shim, run for real against a stub build", () => {
  it("passes the call through unchanged and records it in a trace the real parser reads back", async () => {
    const dir = join(scratch.dir, "shim");
    const bin = join(dir, "build", "bin-nft");
    // A stand-in build: echoes its argv, prints two stderr lines (one with tabs), fails -C with 1.
    await stub(
      bin,
      "iptables",
      `printf 'ran:%s\\n' "$@"; printf 'first line\\n\\tsecond\\tline\\n' >&2; for a in "$@"; do [ "$a" = -C ] && exit 1; done; exit 0`,
    );
    await writeFile(join(dir, "iptables-dir"), `${bin}\n`);
    await mkdir(join(dir, "sbin"));
    const iptables = join(dir, "sbin", "iptables");
    await symlink(scratch.shim, iptables);
    const env = {
      PATH: SAFE_PATH,
      [SHIM_ENV.iptablesDir]: join(dir, "iptables-dir"),
      [SHIM_ENV.iptablesTrace]: join(dir, "trace"),
      [SHIM_ENV.shimErr]: join(dir, "shim-err"),
    };
    const check = [
      "-w",
      "-t",
      "filter",
      "-C",
      "DOCKER-BRIDGE",
      "-o",
      "br-1",
      "-m",
      "comment",
      "--comment",
      "two words",
      "-j",
      "DOCKER",
    ];
    const awkward = ["-N", "tab\there", "new\nline"];
    const before = Date.now();

    const first = await execa(iptables, check, { env, extendEnv: false, reject: false });
    const second = await execa(iptables, awkward, { env, extendEnv: false, reject: false });

    expect(first.exitCode).toBe(1);
    expect(first.stdout).toBe(check.map((a) => `ran:${a}`).join("\n"));
    expect(first.stderr).toBe("first line\n\tsecond\tline");
    expect(second.exitCode).toBe(0);
    const text = await readFile(join(dir, "trace"), "utf8");
    expect(text.split("\n").filter(Boolean)).toHaveLength(2);
    const [call, other] = parseTrace(text);
    expect(call).toMatchObject({
      exitCode: 1,
      tool: "iptables",
      buildDir: bin,
      args: check,
      stderr: "first line\n second line",
    });
    expect(call?.caller).not.toBe("");
    expect(call?.startMs).toBeGreaterThanOrEqual(before - 1000);
    expect(call?.endMs).toBeGreaterThanOrEqual(call?.startMs ?? Infinity);
    expect(parseCall(call?.args ?? [])).toMatchObject({ operation: "check", chain: "DOCKER-BRIDGE", table: "filter" });
    // tabs and newlines inside an argument cannot split the line: they become spaces
    expect(other).toMatchObject({ exitCode: 0, args: ["-N", "tab here", "new line"] });
    expect(readdirSync(dir).filter((f) => f.startsWith("shim-err."))).toHaveLength(2);
  });
});

describe("host facts, printed by the real script", () => {
  it("the facts script prints one line per key, even when a command prints two lines or none", async () => {
    const stubs = join(scratch.dir, "facts");
    await stub(stubs, "uname", "echo 6.1.0-test");
    await stub(stubs, "iptables", "echo 'iptables v1.8.11 (nf_tables)'");
    await stub(stubs, "dockerd", "echo 'Docker version 28.5.2, build 1'; echo 'second line'");
    await stub(stubs, HOST_TOOLS.checkProbe, "echo correct");
    // no provenance file for this build: its package line is empty
    const run = await execa("sh", ["-c", hostFactsScript({ name: "not-installed-here" })], {
      env: { PATH: `${stubs}:${SAFE_PATH}` },
      extendEnv: false,
      reject: false,
    });
    const out = run.stdout.split("\n");
    expect(out.map((l) => l.split("=")[0])).toEqual([...HOST_FACT_KEYS]);
    expect(out).toContain("dockerdVersion=Docker version 28.5.2, build 1 second line");
    expect(out).toContain("checkProbe=correct");
    expect(out).toContain("iptablesPackage=");
    expect(() => parseKeyValueLines(run.stdout, HOST_FACT_KEYS)).toThrow(/^host facts: iptablesPackage empty$/);
  });
});

describe("the -C self-probe, run for real against a stub iptables", () => {
  // The stub holds no rules: -N, -A, -F, -X succeed, and -C answers with STUB_C_EXIT.
  const cprobe = async (cExit: number, createFails = false) => {
    const stubs = join(scratch.dir, `cprobe-${cExit}-${createFails}`);
    await stub(
      stubs,
      "iptables",
      `for a in "$@"; do case "$a" in -N) ${createFails ? "echo 'iptables: Permission denied' >&2; exit 4" : "exit 0"};; -C) exit ${cExit};; esac; done; exit 0`,
    );
    const run = await execa("sh", [join(HOST_FILES, HOST_TOOLS.checkProbe)], {
      env: { PATH: `${stubs}:${SAFE_PATH}` },
      extendEnv: false,
      reject: false,
    });
    return { text: run.stdout, answer: parseCheckProbe(run.stdout) };
  };

  it("a -C that matches a rule with other interfaces is buggy; one that does not is correct", async () => {
    expect((await cprobe(0)).answer).toBe("buggy");
    expect((await cprobe(1)).answer).toBe("correct");
  });

  it("anything else is an error, never a verdict", async () => {
    expect(await cprobe(2)).toEqual({ text: "error: -C exit 2", answer: "error" });
    expect(await cprobe(1, true)).toEqual({ text: "error: cannot create chain", answer: "error" });
  });
});
