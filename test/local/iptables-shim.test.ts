import { chmod, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { parseTrace } from "../../src/assertions/trace.js";
import { HOST_TOOLS, SHIM_ENV, TRACE } from "../../src/contract/host-contract.js";
import { recipeTag } from "../../src/harness/images/build-image.js";
import { hostRecipe } from "../../src/harness/images/recipes.js";
import { readShimSource, shimRecipe } from "../../src/harness/images/shim-image.js";
import { compiledShimScratch } from "../support/shim.js";
import { expectEvery } from "../support/quantifiers.js";

/**
 * The compiled shim on the cases C gets wrong easily: a call without arguments, an empty
 * argument, stderr without a final newline, a binary killed by a signal or missing, a script
 * larger than a pipe holds, calls at the same time, and the build wrapper it runs without a shell.
 */
const scratch = compiledShimScratch("fwcompat-shim-");

async function executable(path: string, body: string): Promise<void> {
  await writeFile(path, body);
  await chmod(path, 0o755);
}

/** A host-like layout under a fresh directory: the shim linked as each tool, the real binaries in real/. */
async function layout(name: string, tools: string[]) {
  const dir = join(scratch.dir, name);
  const real = join(dir, "real");
  await mkdir(join(dir, "sbin"), { recursive: true });
  await mkdir(real);
  for (const tool of tools) await symlink(scratch.shim, join(dir, "sbin", tool));
  await writeFile(join(dir, "iptables-dir"), `${real}\n`);
  const env = {
    PATH: "/usr/bin:/bin",
    [SHIM_ENV.iptablesDir]: join(dir, "iptables-dir"),
    [SHIM_ENV.iptablesTrace]: join(dir, "trace"),
    [SHIM_ENV.shimErr]: join(dir, "shim-err"),
    [SHIM_ENV.nftDir]: real,
  };
  const call = (tool: string, args: string[], input = "") =>
    execa(join(dir, "sbin", tool), args, { env, extendEnv: false, input, reject: false });
  const trace = async () => readFile(join(dir, "trace"), "utf8");
  return { dir, real, call, trace };
}

/** The shim's caller in these tests: this process. */
const caller = async () => (await readFile(`/proc/${process.pid}/comm`, "utf8")).trim();
/** A trace line with its two times replaced by T: what is left is exactly what the shim wrote. */
const untimed = (line: string) => line.replace(/^\d+\.\d{6}\t\d+\.\d{6}\t/, "T\tT\t");

describe("the compiled iptables shim", () => {
  it("writes the documented line byte for byte: no arguments, an empty argument, stderr with tabs and no final newline", async () => {
    const host = await layout("bytes", ["iptables"]);
    await executable(join(host.real, "iptables"), `#!/bin/sh\nprintf 'a\\tb\\nno newline' >&2\nexit 3\n`);

    const bare = await host.call("iptables", []);
    const empty = await host.call("iptables", ["-N", "", "x"]);

    expect([bare.exitCode, empty.exitCode]).toEqual([3, 3]);
    expect(bare.stderr).toBe("a\tb\nno newline");
    const lines = (await host.trace()).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe("");
    const { argEnd, stderrNewline } = TRACE;
    // no arguments still give one ARG_END, byte for byte what the bash shim wrote (its printf used the format once)
    expect(untimed(lines[0] ?? "")).toBe(
      `T\tT\t3\t${await caller()}\t${host.real}\tiptables\t${argEnd}\ta b${stderrNewline}no newline\t`,
    );
    expect(untimed(lines[1] ?? "")).toBe(
      `T\tT\t3\t${await caller()}\t${host.real}\tiptables\t-N${argEnd}${argEnd}x${argEnd}\ta b${stderrNewline}no newline\t`,
    );
    expect(parseTrace(lines.join("\n"))[1]?.args).toEqual(["-N", "", "x"]);
  });

  it("a binary killed by a signal exits 128+signal, and a missing one 127 with the reason on stderr; both are traced", async () => {
    const host = await layout("exits", ["iptables", "ip6tables"]);
    await executable(join(host.real, "iptables"), `#!/bin/sh\nkill -TERM $$\n`);

    const killed = await host.call("iptables", ["-L"]);
    const missing = await host.call("ip6tables", ["-L"]);

    expect(killed.exitCode).toBe(128 + 15);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toBe(
      `${HOST_TOOLS.iptablesShim}: ${join(host.real, "ip6tables")}: No such file or directory`,
    );
    const calls = parseTrace(await host.trace());
    expect(calls.map((c) => [c.tool, c.exitCode, c.stderr])).toEqual([
      ["iptables", 143, ""],
      ["ip6tables", 127, missing.stderr],
    ]);
  });

  it("feeds `nft -f -` a script larger than a pipe holds, unchanged, and records it whole", async () => {
    const host = await layout("big", ["nft"]);
    await executable(join(host.real, "nft"), `#!/bin/sh\ncat > "${join(host.dir, "got")}"\n`);
    const script = Array.from({ length: 4000 }, (_, i) => `\tadd rule ip filter FORWARD iifname "br-${i}" accept`).join(
      "\n",
    );

    const load = await host.call("nft", ["-f", "-"], `${script}\n`);

    expect(load.exitCode).toBe(0);
    expect(script.length).toBeGreaterThan(128 * 1024);
    expect(await readFile(join(host.dir, "got"), "utf8")).toBe(`${script}\n`);
    const [call] = parseTrace(await host.trace());
    expect(call?.stdin).toBe(`${script.replace(/\t/g, " ")}\n`);
  });

  it("calls at the same time each leave one whole line", async () => {
    const host = await layout("concurrent", ["iptables"]);
    // every call prints a long stderr, so the lines are long enough to tear if written in pieces
    await executable(join(host.real, "iptables"), `#!/bin/sh\nhead -c 20000 /dev/zero | tr '\\0' x >&2\nexit 0\n`);

    const runs = await Promise.all(Array.from({ length: 24 }, (_, i) => host.call("iptables", ["-A", `CHAIN-${i}`])));

    expectEvery(runs, (r) => r.exitCode === 0 && r.stderr.length === 20000);
    const calls = parseTrace(await host.trace());
    expect(calls.map((c) => c.args[1]).sort()).toEqual(Array.from({ length: 24 }, (_, i) => `CHAIN-${i}`).sort());
    expectEvery(calls, (c) => c.stderr === "x".repeat(20000));
  });

  it("runs a build's wrapper by what it says, without a shell: the multi-binary gets the tool, argv and the two variables", async () => {
    const host = await layout("wrapper", ["iptables-save"]);
    const prefix = join(host.dir, "build");
    await mkdir(join(prefix, "sbin"), { recursive: true });
    const multi = join(prefix, "sbin", "xtables-nft-multi");
    await executable(
      multi,
      `#!/bin/sh\necho "argv0=$0 args=$* lib=$LD_LIBRARY_PATH xt=$XTABLES_LIBDIR"\n[ "$1 $2" = "iptables --version" ] && echo "iptables v1.8.13 (nf_tables)"\nexit 0\n`,
    );
    const made = await execa(
      "sh",
      [
        new URL(`../../host-files/${HOST_TOOLS.makeWrappers}`, import.meta.url).pathname,
        prefix,
        join(prefix, "sbin"),
        join(prefix, "lib"),
        join(prefix, "lib", "xtables"),
      ],
      { reject: false },
    );
    expect(made.exitCode, made.stderr).toBe(0);
    const bin = join(prefix, "bin-nft");
    await writeFile(join(host.dir, "iptables-dir"), `${bin}\n`);
    // not executable: only a shim that reads the wrapper instead of running it gets to the multi-binary
    await chmod(join(bin, "iptables-save"), 0o644);

    const save = await host.call("iptables-save", ["-c", "-t", "nat"]);

    expect(save.exitCode, save.stderr).toBe(0);
    expect(save.stdout).toBe(
      `argv0=${multi} args=iptables-save -c -t nat lib=${join(prefix, "lib")} xt=${join(prefix, "lib", "xtables")}`,
    );
    const [call] = parseTrace(await host.trace());
    expect(call).toMatchObject({ buildDir: bin, tool: "iptables-save", args: ["-c", "-t", "nat"], exitCode: 0 });
  });
});

describe("the shim in the images", () => {
  it("a host image's tag follows the shim's source: a changed shim is a new host image, never an old one reused", async () => {
    const source = await readShimSource();
    const engine = {
      name: "docker-28.5.2",
      version: "28.5.2",
      source: { kind: "debian" as const, suite: "sid" as const, version: "28.5.2" },
    };
    const hostTag = (shimSource: string) =>
      recipeTag(
        hostRecipe(engine, "fwcompat/base:sid-x", [], {
          scripts: {},
          shimTag: recipeTag(shimRecipe("fwcompat/toolchain:iptables-x", shimSource)),
        }),
      );

    expect(hostTag(source)).toBe(hostTag(source));
    expect(hostTag(`${source}\n`)).not.toBe(hostTag(source));
  });
});
