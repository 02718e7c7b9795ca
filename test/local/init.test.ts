import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The built CLI, as a user runs it (CI builds dist/ before the tests; bin/fwcompat.js says so if it is missing).
const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin", "fwcompat.js");
const fwcompat = (args: string[], cwd: string) =>
  execa(process.execPath, [BIN, ...args], { cwd, reject: false, timeout: 60_000, env: { CI: "true" } });

const WRITTEN = [
  ".github/workflows/fwcompat-gate.yml",
  "fwcompat/expectations.yaml",
  "fwcompat/matrix.yaml",
  "fwcompat/my-firewall.sh",
  "fwcompat/scenarios/my-firewall.yaml",
];

async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? filesUnder(dir, join(prefix, e.name)) : [join(prefix, e.name)])),
  );
  return nested.flat().sort();
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "fwcompat-init-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("fwcompat init", () => {
  it("writes a minimal gate into an empty directory, which `fwcompat plan` reads: one dind cell of the user's scenario", async () => {
    const dir = await mkdtemp(join(scratch, "empty-"));
    const init = await fwcompat(["init"], dir);
    expect(init.exitCode, init.stderr).toBe(0);
    expect(await filesUnder(dir)).toEqual(WRITTEN);
    expect(init.stderr).toMatch(/next: fwcompat gate --expect fwcompat\/expectations\.yaml$/m);
    expect((await stat(join(dir, "fwcompat/my-firewall.sh"))).mode & 0o111).not.toBe(0);

    const plan = await fwcompat(["plan", "--matrix", "fwcompat/matrix.yaml"], dir);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout.trim().split("\n")).toEqual([
      "my-firewall__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__1-bridge",
    ]);
    // the script stub is plain POSIX sh, as the hosts run it
    expect((await execa("sh", ["-n", join(dir, "fwcompat/my-firewall.sh")], { reject: false })).exitCode).toBe(0);
  });

  it("writes the workflow with the action it is given, valid by GitHub's workflow schema", async () => {
    const dir = await mkdtemp(join(scratch, "action-"));
    const init = await fwcompat(["init", ".", "--action", "example/fwcompat@v1"], dir);
    expect(init.exitCode, init.stderr).toBe(0);
    const workflow = join(dir, ".github/workflows/fwcompat-gate.yml");
    const check = await execa(join(ROOT, "node_modules", ".bin", "action-validator"), [workflow], { reject: false });
    expect(check.exitCode, `${check.stdout}${check.stderr}`).toBe(0);
    expect(await execa("grep", ["-c", "uses: example/fwcompat@v1$", workflow])).toMatchObject({ stdout: "1" });
  });

  it("refuses to write over any existing file, in one line with exit 2, and writes nothing at all", async () => {
    const repo = await mkdtemp(join(scratch, "repo-"));
    await mkdir(join(repo, ".github/workflows"), { recursive: true });
    await writeFile(join(repo, ".github/workflows/fwcompat-gate.yml"), "name: mine\n");
    const refused = await fwcompat(["init"], repo);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(
      "fwcompat: .github/workflows/fwcompat-gate.yml already exists: init writes nothing over existing files",
    );
    expect(existsSync(join(repo, "fwcompat"))).toBe(false);

    const dir = await mkdtemp(join(scratch, "twice-"));
    expect((await fwcompat(["init"], dir)).exitCode).toBe(0);
    const again = await fwcompat(["init"], dir);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toBe(
      "fwcompat: fwcompat/matrix.yaml and 4 more of its files already exist: init writes nothing over existing files",
    );
  });
});
