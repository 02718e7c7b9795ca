import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256 } from "../../src/harness/images/tarball-source.js";
import { runMatrixForTest, type MatrixRun } from "../support/matrix-run.js";
import { scratchDir } from "../support/scratch.js";

// Engines from source that must not become cells: a tiny Go "engine" archived with `git archive`
// that prints the wrong version (compiled for real, with the same cached Go layer as Docker 29),
// an archive whose commit is not the pinned one, and an archive nobody has.
let run: MatrixRun;
let commit = "";

async function fakeEngineArchive(dir: string): Promise<string> {
  const repo = join(dir, "fake-engine");
  const file = (path: string, text: string) =>
    mkdir(join(repo, path, ".."), { recursive: true }).then(() => writeFile(join(repo, path), text));
  const main = (says: string) => `package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("${says}") }\n`;
  await file("go.mod", "module example.org/fake\n\ngo 1.22\n");
  await file("vendor/modules.txt", "");
  await file("dockerversion/version.go", 'package dockerversion\n\nvar (\n\tVersion   = ""\n\tGitCommit = ""\n)\n');
  await file("cmd/dockerd/main.go", main("Docker version 1.2.3, build abcdefg"));
  await file("cmd/docker-proxy/main.go", main("docker-proxy"));
  const git = (...args: string[]) => execa("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args]);
  await git("init", "-q");
  await git("add", ".");
  await git("commit", "-qm", "fake engine");
  commit = (await git("rev-parse", "HEAD")).stdout.trim();
  const archive = join(dir, "fake-engine.tar.gz");
  await execa("sh", ["-c", `git -C "$1" archive --prefix=fake-1/ HEAD | gzip -n > "$2"`, "sh", repo, archive]);
  return archive;
}

beforeAll(async () => {
  const dir = await scratchDir("fwcompat-engine-src-");
  const archive = await fakeEngineArchive(dir);
  const hash = sha256(await readFile(archive));
  const engine = (name: string, source: Record<string, string>) =>
    `  - name: ${name}\n    version: 29.9.9\n    source: { kind: moby-source, tag: v29.9.9, ${Object.entries(source)
      .map(([k, v]) => `${k}: "${v}"`)
      .join(", ")} }\n`;
  const matrix = [
    "version: 1",
    "iptables:",
    '  - { name: "1.8.11-2", version: 1.8.11-2, source: { kind: debian, suite: trixie, version: 1.8.11-2 } }',
    "engines:",
    engine("says-another-version", { file: "fake-engine.tar.gz", sha256: hash, commit }),
    engine("another-commit", { file: "fake-engine.tar.gz", sha256: hash, commit: "1".repeat(40) }),
    engine("nowhere", { file: "moby-nowhere.tar.xz", sha256: "2".repeat(64), commit }),
    "daemon:",
    "  - { name: proxy-off, options: { userland-proxy: false } }",
    "topologies:",
    "  - { name: 1-bridge, bridges: 1, basePort: 8080 }",
    "matrix:",
    "  - engine: [says-another-version, another-commit, nowhere]",
    '    iptables: ["1.8.11-2"]',
    "    daemon: [proxy-off]",
    "    topology: [1-bridge]",
    "    scenario: [curl-timeout]",
  ].join("\n");
  await writeFile(join(dir, "matrix.yaml"), `${matrix}\n`);
  run = await runMatrixForTest(join(dir, "matrix.yaml"), { timeoutMs: 30 * 60_000, env: { FWCOMPAT_SOURCE_DIR: dir } });
}, 35 * 60_000);

describe("engines from source that cannot be had", () => {
  it("a build whose dockerd prints another version: its cells are errors that quote both", () => {
    const result = run.cell("curl-timeout__dind__says-another-version__");
    expect(result.status).toBe("error");
    expect(result.reason).toBe(
      `engine says-another-version: engine claims 'Docker version 29.9.9, build ${commit.slice(0, 7)}' but says: Docker version 1.2.3, build abcdefg`,
    );
    expect(result.baseline).toBeUndefined();
  });

  it("an archive made from another commit: unavailable, naming both commits", () => {
    const result = run.cell("curl-timeout__dind__another-commit__");
    expect(result.status).toBe("unavailable");
    expect(result.reason).toMatch(
      new RegExp(`fake-engine\\.tar\\.gz was made from commit ${commit}, the matrix pins 1{40}$`),
    );
  });

  it("an archive in no place tried: unavailable, naming the places", () => {
    const result = run.cell("curl-timeout__dind__nowhere__");
    expect(result.status).toBe("unavailable");
    expect(result.reason).toMatch(
      /^engine nowhere: moby-nowhere\.tar\.xz unobtainable: not in .*; not in the source directory /,
    );
  });

  it("the run says the harness could not build one engine (exit 1) and finishes", () => {
    expect(run.exitCode, run.output.slice(-2000)).toBe(1);
    expect(run.cells.size).toBe(3);
  });
});
