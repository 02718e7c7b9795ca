import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The host's init (fwcompat-hostd), run by this machine's sh against a fake cgroup v2 tree: a
// directory with the files the kernel's cgroupfs has. The kernel's part is played by a stub
// `sleep` (the script's only pause between tries): each call is a moment in which the moved
// processes leave the root's list and, as the test says, new ones appear in it.
const HOSTD = new URL("../../host-files/fwcompat-hostd", import.meta.url).pathname;
/** Where the fake tree sits under the scratch root the script is pointed at, as in a host. */
const CGROUP = join("sys", "fs", "cgroup");

/**
 * The fake kernel. A tick: the root's list loses every pid written to init/cgroup.procs,
 * then gains the pids of the next line of `spawns` (a process forked meanwhile). Each call
 * is logged; `sleep infinity` (the script's last command) returns at once.
 */
const FAKE_KERNEL_SLEEP = `#!/bin/sh
echo "$1" >> "$FAKE/sleeps"
[ "$1" = infinity ] && exit 0
root="$FAKE/sys/fs/cgroup/cgroup.procs"
moved="$FAKE/sys/fs/cgroup/init/cgroup.procs"
[ -e "$moved" ] || : > "$moved"
grep -vxF -f "$moved" "$root" > "$FAKE/left" || true
tick=$(grep -c . "$FAKE/sleeps")
sed -n "\${tick}p" "$FAKE/spawns" | tr ' ' '\\n' | grep . >> "$FAKE/left" || true
cat "$FAKE/left" > "$root"
`;

interface FakeTree {
  dir: string;
  run: () => ReturnType<typeof execa>;
  read: (path: string) => Promise<string>;
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "fwcompat-hostd-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A cgroup v2 root holding `processes`, offering `controllers`; `spawns[i]` appear during the i-th pause. */
async function fakeTree(name: string, processes: string[], controllers: string, spawns: string[][]): Promise<FakeTree> {
  const dir = join(scratch, name);
  const bin = join(dir, "bin");
  await mkdir(join(dir, CGROUP), { recursive: true });
  await mkdir(bin);
  await writeFile(join(dir, CGROUP, "cgroup.procs"), processes.map((p) => `${p}\n`).join(""));
  await writeFile(join(dir, CGROUP, "cgroup.controllers"), `${controllers}\n`);
  await writeFile(join(dir, CGROUP, "cgroup.subtree_control"), "");
  await writeFile(join(dir, "spawns"), spawns.map((s) => `${s.join(" ")}\n`).join(""));
  await writeFile(join(dir, "sleeps"), "");
  await writeFile(join(bin, "sleep"), FAKE_KERNEL_SLEEP);
  await chmod(join(bin, "sleep"), 0o755);
  return {
    dir,
    run: () =>
      execa("sh", [HOSTD], {
        env: {
          PATH: `${bin}:/usr/bin:/bin`,
          FAKE: dir,
          FWCOMPAT_HOSTD_TEST_ROOT: dir,
        },
        extendEnv: false,
        reject: false,
        timeout: 20_000,
      }),
    read: (path) => readFile(join(dir, path), "utf8"),
  };
}

const lines = (text: string) => text.split("\n").filter(Boolean);

describe("fwcompat-hostd on cgroup v2 (a fake cgroup tree)", () => {
  it("empties the root cgroup again when a process appears meanwhile, then enables every controller", async () => {
    // tini and hostd in the root; while the first two are moved, pid 77 is forked into the root
    const tree = await fakeTree("refills-once", ["1", "42"], "cpuset cpu io memory pids", [["77"]]);

    const run = await tree.run();

    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    // two pauses (the first try left 77 behind), then the idle sleep
    expect(lines(await tree.read("sleeps"))).toEqual(["0.01", "0.01", "infinity"]);
    expect(lines(await tree.read("sys/fs/cgroup/init/cgroup.procs"))).toEqual(["1", "42", "77"]);
    expect(lines(await tree.read("sys/fs/cgroup/cgroup.procs"))).toEqual([]);
    expect(await tree.read("sys/fs/cgroup/cgroup.subtree_control")).toBe("+cpuset +cpu +io +memory +pids\n");
    expect(await tree.read("run/fwcompat/cgroup")).toBe("v2\n");
    expect(await tree.read("run/fwcompat/hostd")).toBe("ready\n");
  });

  it("gives up after a bounded number of tries with a message naming what stayed, and never reports ready", async () => {
    // a fork in every pause: the root is never seen empty
    const forks = Array.from({ length: 200 }, (_, i) => [String(1000 + i)]);
    const tree = await fakeTree("keeps-refilling", ["1", "42"], "cpu memory", forks);

    const run = await tree.run();

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      "fwcompat-hostd: cgroup v2: could not delegate the controllers (cpu memory) after 100 tries: processes kept appearing in the root cgroup (last seen: 1098)",
    );
    expect(lines(await tree.read("sleeps"))).toHaveLength(99);
    expect(await tree.read("sys/fs/cgroup/cgroup.subtree_control")).toBe("");
    expect(existsSync(join(tree.dir, "run", "fwcompat", "hostd"))).toBe(false);
  });

  it("with no process left to move and no controller offered, enables nothing and is ready at once", async () => {
    const tree = await fakeTree("nothing-to-do", [], "", []);

    const run = await tree.run();

    expect(run.exitCode).toBe(0);
    expect(lines(await tree.read("sleeps"))).toEqual(["infinity"]);
    expect(await tree.read("sys/fs/cgroup/cgroup.subtree_control")).toBe("");
    expect(await tree.read("run/fwcompat/hostd")).toBe("ready\n");
  });

  it("names the kernel's refusal when the controllers cannot be enabled although the root is empty", async () => {
    const tree = await fakeTree("refused", [], "cpu", []);
    // a directory where the file should be: every write to it fails, as an EBUSY write would
    await rm(join(tree.dir, CGROUP, "cgroup.subtree_control"));
    await mkdir(join(tree.dir, CGROUP, "cgroup.subtree_control"));

    const run = await tree.run();

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(
      /^fwcompat-hostd: cgroup v2: could not delegate the controllers \(cpu\) after 100 tries: the kernel refused: .*cgroup\.subtree_control.*Is a directory$/,
    );
    expect(existsSync(join(tree.dir, "run", "fwcompat", "hostd"))).toBe(false);
  });
});
