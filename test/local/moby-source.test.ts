import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { engineSchema } from "../../src/config/schema.js";
import { recipeTag } from "../../src/harness/images/build-image.js";
import { checkArchiveCommit, readArchiveFacts } from "../../src/harness/images/moby-source.js";
import { mobyBuildRecipe, type MobySourceEngine } from "../../src/harness/images/moby-recipe.js";
import { findLocalSource, obtainSource, sourceDir } from "../../src/harness/images/source-dir.js";
import { sha256 } from "../../src/harness/images/tarball-source.js";

// A real `git archive` of a tiny repository, made the way upstream tag archives are made.
let dir = "";
let archive = "";
let commit = "";
let gopathArchive = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fwcompat-moby-"));
  const repo = join(dir, "repo");
  const git = (...args: string[]) => execa("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args]);
  await execa("git", ["init", "-q", repo]);
  await writeFile(join(repo, "go.mod"), "module example.org/engine\n");
  await git("add", ".");
  await git("commit", "-qm", "one");
  commit = (await git("rev-parse", "HEAD")).stdout.trim();
  archive = join(dir, "engine-v1.tar.gz");
  await execa("sh", ["-c", `git -C "$1" archive --prefix=engine-1.0/ HEAD | gzip > "$2"`, "sh", repo, archive]);
  // moby before 29: vendor.mod instead of go.mod, and docker-proxy under cmd/
  const old = join(dir, "old");
  await execa("git", ["init", "-q", old]);
  await writeFile(join(old, "vendor.mod"), "module github.com/docker/docker\n");
  await mkdir(join(old, "cmd", "docker-proxy"), { recursive: true });
  await writeFile(join(old, "cmd", "docker-proxy", "main.go"), "package main\n");
  await execa("git", ["-C", old, "add", "."]);
  await execa("git", ["-C", old, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "old"]);
  gopathArchive = join(dir, "engine-v0.tar.xz");
  await execa("sh", ["-c", `git -C "$1" archive --prefix=engine-0.9/ HEAD | xz > "$2"`, "sh", old, gopathArchive]);
});

const saved = process.env.FWCOMPAT_SOURCE_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.FWCOMPAT_SOURCE_DIR;
  else process.env.FWCOMPAT_SOURCE_DIR = saved;
});

describe("moby source archives", () => {
  it("reads the commit and prefix a git archive carries, and the layout its files show", async () => {
    expect(await readArchiveFacts(archive)).toEqual({
      ok: true,
      commit,
      prefix: "engine-1.0",
      tree: { layout: "module", dockerProxy: false },
    });
    expect(await readArchiveFacts(gopathArchive)).toMatchObject({
      ok: true,
      prefix: "engine-0.9",
      tree: { layout: "gopath", dockerProxy: true },
    });
  });

  it("refuses an archive made from another commit, naming both", async () => {
    const other = "0".repeat(40);
    const facts = await checkArchiveCommit(archive, other);
    expect(facts.ok).toBe(false);
    expect(!facts.ok && facts.reason).toBe(`${archive} was made from commit ${commit}, the matrix pins ${other}`);
  });

  it("says so when a file is no git archive", async () => {
    const plain = join(dir, "plain.tar.gz");
    await execa("sh", ["-c", `tar -C "$1" -czf "$2" repo/go.mod`, "sh", dir, plain]);
    const facts = await readArchiveFacts(plain);
    expect(facts.ok).toBe(false);
    expect(!facts.ok && facts.reason).toMatch(/carries no commit id/);
  });
});

describe("the local source directory", () => {
  it("is FWCOMPAT_SOURCE_DIR, else settings.sourceDir, else none", async () => {
    delete process.env.FWCOMPAT_SOURCE_DIR;
    expect(sourceDir({})).toBeUndefined();
    expect(await findLocalSource("engine-v1.tar.gz", {})).toBeUndefined();
    expect(sourceDir({ sourceDir: dir })).toBe(dir);
    expect(await findLocalSource("engine-v1.tar.gz", { sourceDir: dir })).toBe(archive);
    process.env.FWCOMPAT_SOURCE_DIR = join(dir, "repo");
    expect(await findLocalSource("engine-v1.tar.gz", { sourceDir: dir })).toBeUndefined();
    expect(await findLocalSource("go.mod", {})).toBe(join(dir, "repo", "go.mod"));
  });

  it("hands out a file only when its sha256 matches, and names every place tried otherwise", async () => {
    delete process.env.FWCOMPAT_SOURCE_DIR;
    const { readFile } = await import("node:fs/promises");
    const hash = sha256(await readFile(archive));
    const settings = { sourceDir: dir, tarballDir: join(dir, "cache"), allowDownloads: false };
    const found = await obtainSource({ file: "engine-v1.tar.gz", sha256: hash, urls: [] }, settings);
    expect(found.ok && found.path).toBe(archive);
    const wrong = await obtainSource(
      { file: "engine-v1.tar.gz", sha256: "f".repeat(64), urls: ["https://example.invalid/x.tar.gz"] },
      settings,
    );
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.reason).toMatch(
      /not in .*cache.*downloads from 1 upstream URL\(s\) disabled.*engine-v1\.tar\.gz has sha256 [0-9a-f]{12}…, expected ffffffffffff…/,
    );
    const none = await obtainSource(
      { file: "engine-v1.tar.gz", sha256: hash, urls: [] },
      { tarballDir: join(dir, "cache"), allowDownloads: false },
    );
    expect(!none.ok && none.reason).toMatch(/no source directory set \(settings.sourceDir or FWCOMPAT_SOURCE_DIR\)/);
  });
});

describe("the engine source kind", () => {
  const entry = {
    name: "docker-29.7.2",
    version: "29.7.2",
    source: {
      kind: "moby-source",
      file: "moby-docker-v29.7.2.tar.xz",
      sha256: "a".repeat(64),
      commit: "6a43e3d5afddf4111da0f864bbc7cae5d7e95001",
      tag: "docker-v29.7.2",
    },
  };

  it("takes a pinned archive with Debian sid's Go by default, and rejects a short commit id", () => {
    const engine = engineSchema.parse(entry);
    expect(engine.source).toMatchObject({ suite: "sid", goPackage: "golang-1.26-go", urls: [] });
    const short = engineSchema.safeParse({ ...entry, source: { ...entry.source, commit: "6a43e3d" } });
    expect(short.success).toBe(false);
  });

  it("caches the compiled engine by content: another archive or Go is another image", () => {
    const engine = engineSchema.parse(entry) as MobySourceEngine;
    const tag = (archiveBytes: string, e = engine) =>
      recipeTag(mobyBuildRecipe(e, "fwcompat/base:sid-x", Buffer.from(archiveBytes), "moby-29.7.2", "module"));
    expect(tag("one")).toBe(tag("one"));
    expect(tag("one")).not.toBe(tag("two"));
    expect(tag("one", { ...engine, source: { ...engine.source, goPackage: "golang-1.25-go" } })).not.toBe(tag("one"));
    expect(tag("one")).toMatch(/^fwcompat\/engine:docker-29\.7\.2-[0-9a-f]{16}$/);
  });
});
