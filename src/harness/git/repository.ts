import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { execa } from "execa";
import { downloadsAllowed, downloadsOffNote } from "../../config/downloads.js";
import type { Settings } from "../../config/schema.js";
import { findLocalSource, sourceDir } from "../images/source-dir.js";
import { TIMEOUT_MS } from "../../contract/timeouts.js";
import { runLocal } from "../local-command.js";

/** What a commit is, as recorded with every build made from it. */
export interface CommitInfo {
  commit: string;
  /** `git describe --tags --always`, e.g. v1.8.10-53-g9ccae639 */
  describe: string;
  /** the tag naming exactly this commit, if any */
  exactTag: string | undefined;
  subject: string;
  /** author date, ISO 8601 */
  date: string;
  author: string;
}

export type Located = { ok: true; location: string; remote: boolean } | { ok: false; reason: string };

const isUrl = (spec: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(spec) || /^[^/\s]+@[^/\s]+:/.test(spec);

/**
 * Where a repository named in a matrix or on the command line is: a URL (cloned only as
 * settings.allowDownloads allows: `auto` when what is built from it is pinned to a commit),
 * a path, or a bare file name looked up in the local source directory.
 */
export async function locateRepository(
  spec: string,
  settings: Pick<Settings, "sourceDir" | "allowDownloads">,
  pinnedToCommit = false,
): Promise<Located> {
  if (isUrl(spec)) {
    return downloadsAllowed(settings.allowDownloads, pinnedToCommit)
      ? { ok: true, location: spec, remote: true }
      : {
          ok: false,
          reason: `repository ${spec}: ${downloadsOffNote(settings.allowDownloads)}; put a clone or bundle in the local source directory instead`,
        };
  }
  if (spec.includes("/")) {
    const path = resolve(spec);
    return existsSync(path)
      ? { ok: true, location: path, remote: false }
      : { ok: false, reason: `repository ${path} does not exist` };
  }
  const found = await findLocalSource(spec, settings);
  if (found) return { ok: true, location: found, remote: false };
  const dir = sourceDir(settings);
  return {
    ok: false,
    reason: dir
      ? `repository ${spec} is not in the local source directory ${dir}`
      : `repository ${spec}: no local source directory set (settings.sourceDir or FWCOMPAT_SOURCE_DIR)`,
  };
}

/** Where mirrors of repositories are kept on the machine running fwcompat (one per location). */
export function gitCacheDir(): string {
  return process.env.FWCOMPAT_GIT_CACHE ?? join(homedir(), ".cache", "fwcompat", "git");
}

const GIT_ENV = { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };

async function git(gitDir: string, args: string[], kind: "git" | "gitFetch" = "git") {
  return runLocal(kind, "git", ["-C", gitDir, ...args], { env: GIT_ENV });
}

/** A bare mirror of a repository on this machine: cloned once, fetched again only when a ref is not found. */
export class GitMirror {
  private fetched = false;

  private constructor(
    readonly location: string,
    readonly gitDir: string,
  ) {}

  /** Clones the repository (a bundle, a path or a URL) into the cache unless a mirror of it is already there. */
  static async open(location: string, timeoutMs = TIMEOUT_MS.gitFetch): Promise<GitMirror> {
    const key = createHash("sha256").update(location).digest("hex").slice(0, 12);
    const name =
      basename(location)
        .replace(/(\.git|\.bundle)$/, "")
        .replace(/[^A-Za-z0-9._-]/g, "_") || "repo";
    const gitDir = join(gitCacheDir(), `${name}-${key}.git`);
    const mirror = new GitMirror(location, gitDir);
    if (existsSync(join(gitDir, "HEAD"))) return mirror;
    await mkdir(gitCacheDir(), { recursive: true });
    const partial = `${gitDir}.part-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    const clone = await execa("git", ["clone", "--mirror", "--quiet", location, partial], {
      reject: false,
      timeout: timeoutMs,
      env: GIT_ENV,
    });
    if (clone.exitCode !== 0) {
      await rm(partial, { recursive: true, force: true });
      throw new GitError(`git clone ${location} failed: ${lastLine(clone.stderr) || clone.shortMessage}`);
    }
    // Another process may have finished the same clone first; either copy will do.
    await rename(partial, gitDir).catch(() => rm(partial, { recursive: true, force: true }));
    mirror.fetched = true;
    return mirror;
  }

  /** Brings the mirror up to date with its origin (once per process). */
  async fetch(): Promise<void> {
    if (this.fetched) return;
    const run = await git(this.gitDir, ["fetch", "--prune", "--quiet"], "gitFetch");
    if (run.exitCode !== 0) throw new GitError(`git fetch from ${this.location} failed: ${lastLine(run.stderr)}`);
    this.fetched = true;
  }

  /** The commit a ref names, fetching once if the mirror does not know it (or knows it elsewhere than `expected`). */
  async resolve(ref: string, expected?: string): Promise<string | undefined> {
    const local = await this.revParse(ref);
    if (local && (!expected || local === expected)) return local;
    await this.fetch();
    return this.revParse(ref);
  }

  private async revParse(ref: string): Promise<string | undefined> {
    // `--end-of-options` keeps a ref that starts with '-' from being read as an option.
    const run = await git(this.gitDir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
    return run.exitCode === 0 ? run.stdout.trim() : undefined;
  }

  async info(commit: string): Promise<CommitInfo> {
    const log = await git(this.gitDir, ["log", "-1", "--format=%H%x00%s%x00%aI%x00%an", commit]);
    if (log.exitCode !== 0) throw new GitError(`git log ${commit}: ${lastLine(log.stderr)}`);
    const [id = commit, subject = "", date = "", author = ""] = log.stdout.trim().split("\0");
    const describe = await git(this.gitDir, ["describe", "--tags", "--always", commit]);
    const exact = await git(this.gitDir, ["describe", "--tags", "--exact-match", commit]);
    return {
      commit: id,
      describe: describe.stdout.trim() || id.slice(0, 12),
      exactTag: exact.exitCode === 0 ? exact.stdout.trim() : undefined,
      subject,
      date,
      author,
    };
  }

  /** Whether `ancestor` is an ancestor of (or the same as) `descendant`. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const run = await git(this.gitDir, ["merge-base", "--is-ancestor", ancestor, descendant]);
    if ((run.exitCode ?? 2) > 1) throw new GitError(`git merge-base: ${lastLine(run.stderr)}`);
    return run.exitCode === 0;
  }

  /**
   * The commits after `older` up to and including `newer` along newer's first-parent line,
   * oldest first; undefined when `older` is not on that line (e.g. only on a merged branch).
   */
  async firstParentRange(older: string, newer: string): Promise<string[] | undefined> {
    const run = await git(this.gitDir, ["rev-list", "--first-parent", "--reverse", `${older}..${newer}`]);
    if (run.exitCode !== 0) throw new GitError(`git rev-list: ${lastLine(run.stderr)}`);
    const commits = run.stdout.split("\n").filter(Boolean);
    const first = commits[0];
    if (!first) return undefined;
    return (await this.revParse(`${first}^1`)) === older ? commits : undefined;
  }

  /** The commit's tree as a tar stream (no .git: autogen.sh does not need one). */
  async archive(commit: string): Promise<Buffer> {
    const run = await runLocal("git", "git", ["-C", this.gitDir, "archive", "--format=tar", commit], {
      encoding: "buffer",
      env: GIT_ENV,
    });
    if (run.exitCode !== 0)
      throw new GitError(`git archive ${commit}: ${lastLine(Buffer.from(run.stderr).toString())}`);
    return Buffer.from(run.stdout);
  }
}

export class GitError extends Error {}

const lastLine = (text: string) => text.trim().split("\n").pop() ?? "";
