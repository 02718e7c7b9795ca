import { execa } from "execa";
import { runLocal } from "../local-command.js";
import { mobyTreeOf, type MobyTree } from "./moby-layout.js";

export type ArchiveFacts = { ok: true; commit: string; prefix: string; tree: MobyTree } | { ok: false; reason: string };

const decompress = `case "$1" in *.xz) xz -dc "$1" ;; *.gz) gzip -dc "$1" ;; *) cat "$1" ;; esac`;

/**
 * What a `git archive` tarball says about itself: the commit it was made from (its pax
 * header, read by `git get-tar-commit-id`), the directory its files sit under, and how the
 * tree there is built (module or GOPATH layout, read from its files).
 * GitHub's tag archives are made the same way, so they carry the commit too.
 */
export async function readArchiveFacts(path: string): Promise<ArchiveFacts> {
  const git = await execa("sh", ["-c", "command -v git && command -v tar"], { reject: false });
  if (git.exitCode !== 0)
    return {
      ok: false,
      reason: "git and tar are needed to read a source archive's commit id (git get-tar-commit-id); install git",
    };
  const commit = await runLocal("archiveRead", "sh", ["-c", `${decompress} | git get-tar-commit-id`, "sh", path]);
  if (commit.exitCode !== 0 || !/^[0-9a-f]{40}$/.test(commit.stdout.trim())) {
    return {
      ok: false,
      reason: `${path} carries no commit id (not a git archive?): ${commit.stderr.trim() || `git get-tar-commit-id exit ${commit.exitCode}`}`,
    };
  }
  const listing = await runLocal("archiveRead", "sh", ["-c", `${decompress} | tar -t 2>/dev/null`, "sh", path], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const paths = listing.stdout.split("\n").filter(Boolean);
  // The first entry after the pax header is the archive's prefix directory.
  const prefix = (paths[0] ?? "").replace(/\/.*$/, "");
  if (!prefix) return { ok: false, reason: `${path}: cannot list the archive (${listing.stderr.trim() || "empty"})` };
  return { ok: true, commit: commit.stdout.trim(), prefix, tree: mobyTreeOf(paths, prefix) };
}

/** Checks the archive against the commit the matrix pins; a different commit is never built under the pinned name. */
export async function checkArchiveCommit(path: string, expected: string): Promise<ArchiveFacts> {
  const facts = await readArchiveFacts(path);
  if (facts.ok && facts.commit !== expected) {
    return { ok: false, reason: `${path} was made from commit ${facts.commit}, the matrix pins ${expected}` };
  }
  return facts;
}
