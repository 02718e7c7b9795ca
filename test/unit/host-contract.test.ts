import { readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import {
  HOST_FACT_KEYS,
  HOST_PATHS,
  HOST_TOOLS,
  HOSTD_READY,
  hostFactsScript,
  IPTABLES_BUILDS_DIR,
  parseCheckProbe,
  parseKeyValueLines,
  SHIM_ENV,
  SHIM_SOURCE,
} from "../../src/contract/host-contract.js";
import { parseCall, parseTrace } from "../../src/assertions/trace.js";
import { compiledShimScratch } from "../support/shim.js";
import { codeLines, sourceFiles } from "../support/source-lines.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const HOST_FILES = join(ROOT, "host-files");
const script = (name: string) => readFileSync(join(HOST_FILES, name), "utf8");
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
    await stub(bin, "iptables", `printf 'ran:%s\\n' "$@"; printf 'first line\\n\\tsecond\\tline\\n' >&2; for a in "$@"; do [ "$a" = -C ] && exit 1; done; exit 0`);
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
    const check = ["-w", "-t", "filter", "-C", "DOCKER-BRIDGE", "-o", "br-1", "-m", "comment", "--comment", "two words", "-j", "DOCKER"];
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
    expect(call).toMatchObject({ exitCode: 1, tool: "iptables", buildDir: bin, args: check, stderr: "first line\n second line" });
    expect(call?.caller).not.toBe("");
    expect(call?.startMs).toBeGreaterThanOrEqual(before - 1000);
    expect(call?.endMs).toBeGreaterThanOrEqual(call?.startMs ?? Infinity);
    expect(parseCall(call?.args ?? [])).toMatchObject({ operation: "check", chain: "DOCKER-BRIDGE", table: "filter" });
    // tabs and newlines inside an argument cannot split the line: they become spaces
    expect(other).toMatchObject({ exitCode: 0, args: ["-N", "tab here", "new line"] });
    expect(readdirSync(dir).filter((f) => f.startsWith("shim-err."))).toHaveLength(2);
  });
});

/** Every file a host runs or is built from, apart from fwcompat's TypeScript. */
const inHostTexts = () => [
  ...readdirSync(HOST_FILES).map((f) => ({ file: `host-files/${f}`, text: script(f) })),
  ...["vagrant/Vagrantfile", "vagrant/build-box.mjs"].map((f) => ({ file: f, text: readFileSync(join(ROOT, f), "utf8") })),
];
const PATH_PATTERN = /(?:\/run\/fwcompat|\/var\/log\/fwcompat|\/opt\/fwcompat)(?:[\w./-]*[\w/-])?/g;

describe("the contract and the shell scripts name the same things", () => {
  const contractPaths = new Set<string>(Object.values(HOST_PATHS));

  it("every fwcompat path a script uses is one the contract names", () => {
    const used = inHostTexts().flatMap(({ file, text }) => [...text.matchAll(PATH_PATTERN)].map((m) => ({ file, path: m[0] })));
    expect(used.length).toBeGreaterThan(10);
    const unknown = used.filter(({ path }) => !contractPaths.has(path) && !path.startsWith(`${IPTABLES_BUILDS_DIR}/`));
    expect(unknown).toEqual([]);
  });

  it("every path the contract names is used by some script", () => {
    const all = inHostTexts().map((t) => t.text).join("\n");
    expect([...contractPaths].filter((path) => !all.includes(path))).toEqual([]);
    expect(script(HOST_TOOLS.selectIptables)).toContain(`dir=${IPTABLES_BUILDS_DIR}/$build/bin-$backend`);
    expect(script(HOST_TOOLS.hostd)).toContain(`echo ${HOSTD_READY} > ${HOST_PATHS.hostdReady}`);
  });

  it("the in-host tools are exactly the files of host-files/ (the shim as its C source), and scripts call no other fwcompat- tool", () => {
    const tools = new Set<string>(Object.values(HOST_TOOLS));
    const files = [...tools].map((tool) => (tool === HOST_TOOLS.iptablesShim ? SHIM_SOURCE : tool));
    expect(readdirSync(HOST_FILES).sort()).toEqual(files.sort());
    const called = readdirSync(HOST_FILES).flatMap((f) => [...script(f).replace(PATH_PATTERN, "").matchAll(/fwcompat-[a-z-]+/g)].map((m) => m[0]));
    expect(called.filter((name) => !tools.has(name))).toEqual([]);
  });

  it("the shim's test overrides are the ones the contract names", () => {
    const shim = script(SHIM_SOURCE);
    expect([...new Set([...shim.matchAll(/FWCOMPAT_[A-Z_]+/g)].map((m) => m[0]))].sort()).toEqual(Object.values(SHIM_ENV).sort());
  });

  it("no TypeScript outside src/contract spells an in-host path", () => {
    const files = (dir: string): string[] =>
      readdirSync(join(ROOT, dir)).flatMap((f) => {
        const path = join(ROOT, dir, f);
        return statSync(path).isDirectory() ? files(relative(ROOT, path)) : path.endsWith(".ts") ? [relative(ROOT, path)] : [];
      });
    const offenders = ["src", "scenarios", "scripts"]
      .flatMap(files)
      .filter((f) => !f.startsWith("src/contract/"))
      .filter((f) => new RegExp(PATH_PATTERN.source).test(readFileSync(join(ROOT, f), "utf8").replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, "")));
    expect(offenders).toEqual([]);
  });
});

/**
 * Users of in-host commands at run time: scenarios, fixes, the scenario API, the run (bisect and
 * the session included), the CLI, scripts, the library's DindContainer, and the harness's host
 * operations, readers and providers.
 * (Image recipes build images rather than run in a host; vagrant/ and apt-mirror read this
 * machine's own files; assertions and reports parse output and describe it in prose.)
 */
const IN_HOST_USERS = [
  "scenarios",
  "src/fixes",
  "src/api",
  "src/run",
  "src/cli",
  "scripts",
  "src/harness/host-ops.ts",
  "src/harness/host-reads.ts",
  "src/harness/check-probe.ts",
  "src/harness/providers",
  "src/library",
];
/** A host's tool in command position (a string's start, or after a shell operator), given an option, a redirection or a subcommand. */
const TOOL_CALL = new RegExp(
  String.raw`(?:["'\`]|&&|\|\||[;|{]|\$\()\s*(?:` +
    String.raw`(?:(?:iptables|ip6tables|ebtables|arptables)(?:-save|-restore|-legacy|-nft)?|sysctl|modprobe|dockerd|conntrack)\s+(?:-|<|\d?>)` +
    String.raw`|ip\s+(?:-|link|addr|address|netns|route|neigh|rule)\b|nft\s+(?:-|list|flush|add|delete|insert)\b)`,
);
/** An in-host file or directory: kernel settings, the host's services, runtime state, install locations. */
const IN_HOST_PATH = /(?<![\w.])\/(?:proc\/sys|sys\/(?:fs|class|module)|etc\/|run\b|var\/(?:log|lib|run)\/|opt\/|usr\/(?:local\/)?s?bin|srv\b)/;
/** Lines that are not code a host runs: comments, imports, and descriptions (prose for the user). */
const notCode = /^\s*(?:import |description:)/;

const spellsInHost = (text: string) => !notCode.test(text) && (TOOL_CALL.test(text) || IN_HOST_PATH.test(text));

describe("in-host tools and paths are spelled only by the contract (src/contract)", () => {
  it("no scenario, fix, run, CLI, script or host operation calls a host's tool or names an in-host path itself", () => {
    const files = sourceFiles(...IN_HOST_USERS);
    expect(files.length).toBeGreaterThan(40);
    const offenders = files.flatMap(codeLines).filter(({ text }) => spellsInHost(text)).map(({ file, line, text }) => `${file}:${line}: ${text.trim()}`);
    expect(offenders).toEqual([]);
  });

  it("the check recognises the spellings it guards against, and lets prose and the contract's API through", () => {
    const spelled = [
      'await mustStep(ctx.host, ctx.steps, "forwarding on", "sysctl -w net.ipv4.ip_forward=1");',
      "const reset = `iptables -w -t ${t} -F && iptables -w -t ${t} -X`;",
      "`ip netns add ${ns}`,",
      'script: "cat /proc/sys/net/ipv4/ip_forward",',
      "`${dockerdCommand(\"stop\")} && modprobe -r br_netfilter`",
      "`printf '%s' x > /etc/docker/daemon.json`",
      'text("iptables-save 2>&1"),',
      'const tmpfs = { "/run": "rw,exec" };',
    ];
    expect(spelled.filter((text) => !spellsInHost(text))).toEqual([]);
    const fine = [
      'await mustStep(ctx.host, ctx.steps, "forwarding on", setSysctl({ [SYSCTL.ipForward]: 1 }));',
      'return { applied: true, note: "dockerd restarted, then the saved rules reloaded with --noflush" };',
      "reason: `iptables ${cell.iptables.name}: ${build.reason}`",
      'description: "iptables -P FORWARD ACCEPT (no restart)",',
      'import { runBisect } from "../run/bisect/bisect.js";',
    ];
    expect(fine.filter(spellsInHost)).toEqual([]);
  });

  it("no TypeScript outside src/contract names one of the in-host tools of host-files/", () => {
    const names = Object.values(HOST_TOOLS);
    const offenders = sourceFiles("src", "scenarios", "scripts")
      .filter((f) => !f.startsWith("src/contract/"))
      .flatMap(codeLines)
      .filter(({ text }) => names.some((name) => new RegExp(String.raw`(?<![\w-])${name}(?![\w-])`).test(text)))
      .map(({ file, line, text }) => `${file}:${line}: ${text.trim()}`);
    expect(offenders).toEqual([]);
  });
});

describe("host facts: key=value lines read by key", () => {
  const lines = {
    kernel: "6.1.0-41-amd64",
    iptablesVersion: "iptables v1.8.11 (nf_tables)",
    iptablesPackage: "upstream tarball iptables-1.8.11.tar.xz sha256 d873",
    dockerdVersion: "Docker version 28.5.2, build 1",
    checkProbe: "buggy",
    cgroup: "v1",
  };
  const text = (facts: Record<string, string>) => Object.entries(facts).map(([k, v]) => `${k}=${v}`).join("\n");

  it("reads every key wherever its line is, and a value may contain '='", () => {
    const reordered = Object.entries(lines).reverse().map(([k, v]) => `${k}=${v}\n`).join("\n");
    expect(parseKeyValueLines(reordered, HOST_FACT_KEYS)).toEqual(lines);
    expect(parseKeyValueLines("a=x=y\nb=z", ["a", "b"])).toEqual({ a: "x=y", b: "z" });
  });

  it("a missing key is named, and the others keep their values (nothing shifts)", () => {
    const rest = Object.fromEntries(Object.entries(lines).filter(([key]) => key !== "iptablesPackage"));
    expect(() => parseKeyValueLines(text(rest), HOST_FACT_KEYS)).toThrow(/^host facts: iptablesPackage missing$/);
    expect(parseKeyValueLines(text(rest), ["kernel", "dockerdVersion"])).toEqual({ kernel: lines.kernel, dockerdVersion: lines.dockerdVersion });
  });

  it("an empty value and a repeated key are errors; blank lines are not facts", () => {
    expect(() => parseKeyValueLines(text({ ...lines, kernel: "" }), HOST_FACT_KEYS)).toThrow(/^host facts: kernel empty$/);
    expect(() => parseKeyValueLines(`${text(lines)}\ncgroup=v2`, HOST_FACT_KEYS)).toThrow(/cgroup given 2 times/);
    expect(parseKeyValueLines(`\n${text(lines)}\n\n`, HOST_FACT_KEYS)).toEqual(lines);
  });

  it("the facts script prints one line per key, even when a command prints two lines or none", async () => {
    const stubs = join(scratch.dir, "facts");
    await stub(stubs, "uname", "echo 6.1.0-test");
    await stub(stubs, "iptables", "echo 'iptables v1.8.11 (nf_tables)'");
    await stub(stubs, "dockerd", "echo 'Docker version 28.5.2, build 1'; echo 'second line'");
    await stub(stubs, HOST_TOOLS.checkProbe, "echo correct");
    // no provenance file for this build: its package line is empty
    const run = await execa("sh", ["-c", hostFactsScript({ name: "not-installed-here" })], { env: { PATH: `${stubs}:${SAFE_PATH}` }, extendEnv: false, reject: false });
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
    const run = await execa("sh", [join(HOST_FILES, HOST_TOOLS.checkProbe)], { env: { PATH: `${stubs}:${SAFE_PATH}` }, extendEnv: false, reject: false });
    return { text: run.stdout, answer: parseCheckProbe(run.stdout) };
  };

  it("a -C that matches a rule with other interfaces is buggy; one that does not is correct", async () => {
    expect((await cprobe(0)).answer).toBe("buggy");
    expect((await cprobe(1)).answer).toBe("correct");
  });

  it("anything else is an error, never a verdict", async () => {
    expect(await cprobe(2)).toEqual({ text: "error: -C exit 2", answer: "error" });
    expect(await cprobe(1, true)).toEqual({ text: "error: cannot create chain", answer: "error" });
    expect(parseCheckProbe(" buggy\n")).toBe("buggy");
    expect(parseCheckProbe("")).toBe("error");
    expect(parseCheckProbe("correct?")).toBe("error");
  });
});
