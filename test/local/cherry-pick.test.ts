import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cherryPick } from "../../src/harness/git/cherry-pick.js";
import { GitMirror } from "../../src/harness/git/repository.js";
import { sourceDirForTests } from "../support/cli.js";

// The upstream history as the catalogue's git builds use it: a bundle in the local source directory.
// FWCOMPAT_SOURCE_DIR, else the shared sources beside the repository (as the integration tests find them)
const sourceDir = await sourceDirForTests();
const bundle = join(sourceDir, "iptables-upstream.bundle");

const V1_8_11 = "0506bea1dcc8f12d94e7c32bf2fb04abb3fdd269";
const FIX = "40406dbfaefbc204134452b2747bae4f6a122848";
/** v1.8.13's release commit: its configure.ac bump cannot apply on v1.8.11's */
const V1_8_13_BUMP = "afd52551c98871b8ac0321eed8efa0845956037c";

let scratch: string;
let mirror: GitMirror;
const git = async (...args: string[]) => (await execa("git", ["-C", mirror.gitDir, ...args])).stdout;

/** A tar archive unpacked into a new directory under the scratch directory. */
async function unpacked(archive: Buffer): Promise<string> {
  const dir = await mkdtemp(join(scratch, "tree-"));
  await execa("tar", ["-C", dir, "-xf", "-"], { input: archive });
  return dir;
}

/** The paths `git diff --no-index --name-only` printed, each relative to the tree it is in. */
const names = (output: string, dirs: readonly string[]) => [
  ...new Set(
    output
      .split("\n")
      .filter(Boolean)
      .map((path) => dirs.reduce((p, dir) => p.replace(new RegExp(`^/?${dir.replace(/^\//, "")}/`), ""), path)),
  ),
];

beforeAll(async () => {
  if (!existsSync(bundle))
    throw new Error(
      `${bundle} does not exist: set FWCOMPAT_SOURCE_DIR to the directory holding iptables-upstream.bundle`,
    );
  // a mirror of its own in a temporary cache: the user's cache is not touched
  scratch = await mkdtemp(join(tmpdir(), "fwcompat-cherry-pick-test-"));
  process.env.FWCOMPAT_GIT_CACHE = scratch;
  mirror = await GitMirror.open(bundle);
}, 120_000);

afterAll(async () => {
  delete process.env.FWCOMPAT_GIT_CACHE;
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("cherry-picking upstream commits onto a tag, on a clone of the upstream bundle", () => {
  it("applies 40406dbf on v1.8.11: the tree differs from v1.8.11 by exactly that commit's change", async () => {
    const base = await mirror.info(V1_8_11);
    expect(base.exactTag).toBe("v1.8.11");
    const picked = await cherryPick(mirror, base, [FIX]);
    if (!picked.ok) throw new Error(picked.reason);
    expect(picked.patches).toEqual([{ commit: FIX, subject: "nft: fix interface comparisons in `-C` commands" }]);
    // the picked tree against v1.8.11's, file by file: exactly the files 40406dbf changes upstream
    const base1811 = await unpacked(
      Buffer.from((await execa("git", ["-C", mirror.gitDir, "archive", V1_8_11], { encoding: "buffer" })).stdout),
    );
    const patched = await unpacked(picked.archive);
    const changed = await execa("git", ["diff", "--no-index", "--name-only", "--relative", base1811, patched], {
      reject: false,
      cwd: scratch,
    });
    const upstream = (await git("diff", "--name-only", `${FIX}^`, FIX)).split("\n").filter(Boolean);
    expect(upstream.length).toBeGreaterThan(0);
    expect(names(changed.stdout, [base1811, patched]).sort()).toEqual(upstream.sort());
    // the same picks on the same base give the same tree, run after run (the image is keyed by it)
    const again = await cherryPick(mirror, base, [FIX]);
    expect(again.ok && again.tree).toBe(picked.tree);
  });

  it("refuses, in one line, a pick that conflicts, one already in the tag, and one not in the repository", async () => {
    const base = await mirror.info(V1_8_11);
    const conflict = await cherryPick(mirror, base, [V1_8_13_BUMP]);
    expect(conflict).toEqual({
      ok: false,
      reason: `cherry-pick afd52551c988 (configure: Bump version for 1.8.13 release) does not apply on v1.8.11: conflicts in configure.ac`,
    });
    const older = (await git("rev-parse", "v1.8.10^{commit}")).trim();
    expect(await cherryPick(mirror, base, [older])).toEqual({
      ok: false,
      reason: `cherry-pick ${older.slice(0, 12)} is already part of v1.8.11`,
    });
    const missing = "0123456789abcdef0123456789abcdef01234567";
    expect(await cherryPick(mirror, base, [missing])).toEqual({
      ok: false,
      reason: `${bundle} has no commit ${missing} to cherry-pick`,
    });
  }, 120_000);
});
