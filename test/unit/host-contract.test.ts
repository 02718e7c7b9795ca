import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import {
  HOST_FACT_KEYS,
  HOST_PATHS,
  HOST_TOOLS,
  HOSTD_READY,
  IPTABLES_BUILDS_DIR,
  parseCheckProbe,
  parseKeyValueLines,
  SHIM_ENV,
  SHIM_SOURCE,
} from "../../src/contract/host-contract.js";
import { codeLines, sourceFiles } from "../support/source-lines.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const HOST_FILES = join(ROOT, "host-files");
const script = (name: string) => readFileSync(join(HOST_FILES, name), "utf8");

/** Every file a host runs or is built from, apart from fwcompat's TypeScript. */
const inHostTexts = () => [
  ...readdirSync(HOST_FILES).map((f) => ({ file: `host-files/${f}`, text: script(f) })),
  ...["vagrant/Vagrantfile", "vagrant/build-box.mjs"].map((f) => ({
    file: f,
    text: readFileSync(join(ROOT, f), "utf8"),
  })),
];
const PATH_PATTERN = /(?:\/run\/fwcompat|\/var\/log\/fwcompat|\/opt\/fwcompat)(?:[\w./-]*[\w/-])?/g;

describe("the contract and the shell scripts name the same things", () => {
  const contractPaths = new Set<string>(Object.values(HOST_PATHS));

  it("every fwcompat path a script uses is one the contract names", () => {
    const used = inHostTexts().flatMap(({ file, text }) =>
      [...text.matchAll(PATH_PATTERN)].map((m) => ({ file, path: m[0] })),
    );
    expect(used.length).toBeGreaterThan(10);
    const unknown = used.filter(({ path }) => !contractPaths.has(path) && !path.startsWith(`${IPTABLES_BUILDS_DIR}/`));
    expect(unknown).toEqual([]);
  });

  it("every path the contract names is used by some script", () => {
    const all = inHostTexts()
      .map((t) => t.text)
      .join("\n");
    expect([...contractPaths].filter((path) => !all.includes(path))).toEqual([]);
    expect(script(HOST_TOOLS.selectIptables)).toContain(`dir=${IPTABLES_BUILDS_DIR}/$build/bin-$backend`);
    // "$test_root" is empty in a host (the local tests point it at a fake cgroup tree)
    expect(script(HOST_TOOLS.hostd)).toContain(`echo ${HOSTD_READY} > "$test_root${HOST_PATHS.hostdReady}"`);
  });

  it("the in-host tools are exactly the files of host-files/ (the shim as its C source), and scripts call no other fwcompat- tool", () => {
    const tools = new Set<string>(Object.values(HOST_TOOLS));
    const files = [...tools].map((tool) => (tool === HOST_TOOLS.iptablesShim ? SHIM_SOURCE : tool));
    expect(readdirSync(HOST_FILES).sort()).toEqual(files.sort());
    const called = readdirSync(HOST_FILES).flatMap((f) =>
      [
        ...script(f)
          .replace(PATH_PATTERN, "")
          .matchAll(/fwcompat-[a-z-]+/g),
      ].map((m) => m[0]),
    );
    expect(called.filter((name) => !tools.has(name))).toEqual([]);
  });

  it("the shim's test overrides are the ones the contract names", () => {
    const shim = script(SHIM_SOURCE);
    expect([...new Set([...shim.matchAll(/FWCOMPAT_[A-Z_]+/g)].map((m) => m[0]))].sort()).toEqual(
      Object.values(SHIM_ENV).sort(),
    );
  });

  it("no TypeScript outside src/contract spells an in-host path", () => {
    const files = (dir: string): string[] =>
      readdirSync(join(ROOT, dir)).flatMap((f) => {
        const path = join(ROOT, dir, f);
        return statSync(path).isDirectory()
          ? files(relative(ROOT, path))
          : path.endsWith(".ts")
            ? [relative(ROOT, path)]
            : [];
      });
    const offenders = ["src", "scenarios", "scripts"]
      .flatMap(files)
      .filter((f) => !f.startsWith("src/contract/"))
      .filter((f) =>
        new RegExp(PATH_PATTERN.source).test(
          readFileSync(join(ROOT, f), "utf8").replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, ""),
        ),
      );
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
const IN_HOST_PATH =
  /(?<![\w.])\/(?:proc\/sys|sys\/(?:fs|class|module)|etc\/|run\b|var\/(?:log|lib|run)\/|opt\/|usr\/(?:local\/)?s?bin|srv\b)/;
/** Lines that are not code a host runs: comments, imports, and descriptions (prose for the user). */
const notCode = /^\s*(?:import |description:)/;

/** A description too long for one line goes on the next: that line is prose too. */
const continuesDescription = (previous: { line: number; text: string } | undefined, line: number) =>
  previous?.line === line - 1 && /^\s*description:\s*$/.test(previous.text);
const spellsInHost = (text: string) => !notCode.test(text) && (TOOL_CALL.test(text) || IN_HOST_PATH.test(text));

describe("in-host tools and paths are spelled only by the contract (src/contract)", () => {
  it("no scenario, fix, run, CLI, script or host operation calls a host's tool or names an in-host path itself", () => {
    const files = sourceFiles(...IN_HOST_USERS);
    expect(files.length).toBeGreaterThan(40);
    const offenders = files
      .flatMap((file) =>
        codeLines(file).filter(
          (code, i, lines) => !continuesDescription(lines[i - 1], code.line) && spellsInHost(code.text),
        ),
      )
      .map(({ file, line, text }) => `${file}:${line}: ${text.trim()}`);
    expect(offenders).toEqual([]);
  });

  it("the check recognises the spellings it guards against, and lets prose and the contract's API through", () => {
    const spelled = [
      'await mustStep(ctx.host, ctx.steps, "forwarding on", "sysctl -w net.ipv4.ip_forward=1");',
      "const reset = `iptables -w -t ${t} -F && iptables -w -t ${t} -X`;",
      "`ip netns add ${ns}`,",
      'script: "cat /proc/sys/net/ipv4/ip_forward",',
      '`${dockerdCommand("stop")} && modprobe -r br_netfilter`',
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
  const text = (facts: Record<string, string>) =>
    Object.entries(facts)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n");

  it("reads every key wherever its line is, and a value may contain '='", () => {
    const reordered = Object.entries(lines)
      .reverse()
      .map(([k, v]) => `${k}=${v}\n`)
      .join("\n");
    expect(parseKeyValueLines(reordered, HOST_FACT_KEYS)).toEqual(lines);
    expect(parseKeyValueLines("a=x=y\nb=z", ["a", "b"])).toEqual({ a: "x=y", b: "z" });
  });

  it("a missing key is named, and the others keep their values (nothing shifts)", () => {
    const rest = Object.fromEntries(Object.entries(lines).filter(([key]) => key !== "iptablesPackage"));
    expect(() => parseKeyValueLines(text(rest), HOST_FACT_KEYS)).toThrow(/^host facts: iptablesPackage missing$/);
    expect(parseKeyValueLines(text(rest), ["kernel", "dockerdVersion"])).toEqual({
      kernel: lines.kernel,
      dockerdVersion: lines.dockerdVersion,
    });
  });

  it("an empty value and a repeated key are errors; blank lines are not facts", () => {
    expect(() => parseKeyValueLines(text({ ...lines, kernel: "" }), HOST_FACT_KEYS)).toThrow(
      /^host facts: kernel empty$/,
    );
    expect(() => parseKeyValueLines(`${text(lines)}\ncgroup=v2`, HOST_FACT_KEYS)).toThrow(/cgroup given 2 times/);
    expect(parseKeyValueLines(`\n${text(lines)}\n\n`, HOST_FACT_KEYS)).toEqual(lines);
  });
});

describe("the -C self-probe's answer", () => {
  it("is buggy, correct or error, never anything else", () => {
    expect(parseCheckProbe(" buggy\n")).toBe("buggy");
    expect(parseCheckProbe("correct")).toBe("correct");
    expect(parseCheckProbe("")).toBe("error");
    expect(parseCheckProbe("correct?")).toBe("error");
  });
});
