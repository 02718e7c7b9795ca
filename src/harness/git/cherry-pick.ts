import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLocal } from "../local-command.js";
import type { CommitInfo, GitMirror } from "./repository.js";

/** An upstream commit applied on top of a tag, as the build's evidence records it. */
export interface AppliedPatch {
  commit: string;
  subject: string;
}

export type CherryPicked =
  { ok: true; tree: string; archive: Buffer; patches: AppliedPatch[] } | { ok: false; reason: string };

// Fixed names and dates: the same picks on the same base make the same commits, run after run.
const pickEnv = (date: string) => ({
  GIT_TERMINAL_PROMPT: "0",
  LC_ALL: "C",
  GIT_COMMITTER_NAME: "fwcompat",
  GIT_COMMITTER_EMAIL: "fwcompat@localhost",
  GIT_COMMITTER_DATE: date,
});

const lastLine = (text: string) => text.trim().split("\n").pop() ?? "";

/**
 * The base commit with each pick applied on top, in order, as `git cherry-pick -x` applies
 * it in a throwaway clone that shares the mirror's objects. A pick that is not in the
 * repository, is already part of the base, or does not apply cleanly (the conflicting files
 * named) is refused with one line. The tree is what the build is made of; its id keys the image.
 */
export async function cherryPick(mirror: GitMirror, base: CommitInfo, picks: readonly string[]): Promise<CherryPicked> {
  const patches: AppliedPatch[] = [];
  for (const pick of picks) {
    const commit = await mirror.resolve(pick);
    if (!commit) return { ok: false, reason: `${mirror.location} has no commit ${pick} to cherry-pick` };
    if (await mirror.isAncestor(commit, base.commit))
      return { ok: false, reason: `cherry-pick ${commit.slice(0, 12)} is already part of ${base.describe}` };
    patches.push({ commit, subject: (await mirror.info(commit)).subject });
  }
  const work = await mkdtemp(join(tmpdir(), "fwcompat-cherry-pick-"));
  try {
    const env = pickEnv(base.date);
    const git = (...args: string[]) => runLocal("git", "git", ["-C", work, ...args], { env });
    const cloned = await runLocal(
      "git",
      "git",
      ["clone", "--quiet", "--shared", "--no-checkout", mirror.gitDir, work],
      {
        env,
      },
    );
    if (cloned.exitCode !== 0)
      return { ok: false, reason: `git clone of ${mirror.location}: ${lastLine(cloned.stderr)}` };
    const checkout = await git("checkout", "--quiet", "--detach", base.commit);
    if (checkout.exitCode !== 0)
      return { ok: false, reason: `git checkout ${base.describe}: ${lastLine(checkout.stderr)}` };
    for (const patch of patches) {
      const picked = await git("cherry-pick", "-x", "--allow-empty", patch.commit);
      if (picked.exitCode === 0) continue;
      const conflicts = (await git("diff", "--name-only", "--diff-filter=U")).stdout.split("\n").filter(Boolean);
      const why = conflicts.length ? `conflicts in ${conflicts.join(", ")}` : lastLine(picked.stderr || picked.stdout);
      return {
        ok: false,
        reason: `cherry-pick ${patch.commit.slice(0, 12)} (${patch.subject}) does not apply on ${base.describe}: ${why}`,
      };
    }
    const tree = (await git("rev-parse", "HEAD^{tree}")).stdout.trim();
    const archive = await runLocal("git", "git", ["-C", work, "archive", "--format=tar", "HEAD"], {
      encoding: "buffer",
      env,
    });
    if (archive.exitCode !== 0)
      return { ok: false, reason: `git archive: ${lastLine(Buffer.from(archive.stderr).toString())}` };
    return { ok: true, tree, archive: Buffer.from(archive.stdout), patches };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
