import type Docker from "dockerode";
import type { GitSource, Settings } from "../../config/schema.js";
import { cherryPick, type AppliedPatch } from "../git/cherry-pick.js";
import { GitError, GitMirror, locateRepository, type CommitInfo } from "../git/repository.js";
import { ensureImage, ImageBuildError } from "./build-image.js";
import { gitIptablesRecipe, gitNameProblem, gitVersionProblem, parseProvenance } from "./git-recipe.js";
import { readImageFile } from "./image-file.js";
import { provenanceFile } from "../../contract/host-contract.js";
import { ensureToolchain } from "./toolchain.js";

export type GitBuildResult =
  | { ok: true; tag: string; built: boolean; info: CommitInfo; versions: string[]; patches: AppliedPatch[] }
  | { ok: false; status: "unavailable" | "error"; reason: string; info?: CommitInfo };

export interface GitBuildContext {
  docker: Docker;
  settings: Pick<Settings, "sourceDir" | "allowDownloads">;
  /** the trixie base image: the toolchain's base and the build image's last stage */
  baseTag: string;
  wrappers: string;
  log: (line: string) => void;
}

// One clone per process, however many builds ask for it at once.
const mirrors = new Map<string, Promise<GitMirror>>();

/** The harness machine's mirror of a repository spec (URL, path or bundle in the local source directory). */
export async function openRepository(
  spec: string,
  settings: GitBuildContext["settings"],
  pinnedToCommit = false,
): Promise<{ ok: true; mirror: GitMirror } | { ok: false; reason: string }> {
  const located = await locateRepository(spec, settings, pinnedToCommit);
  if (!located.ok) return located;
  let opening = mirrors.get(located.location);
  if (!opening) {
    opening = GitMirror.open(located.location);
    mirrors.set(located.location, opening);
    opening.catch(() => mirrors.delete(located.location));
  }
  try {
    return { ok: true, mirror: await opening };
  } catch (error) {
    if (error instanceof GitError) return { ok: false, reason: error.message };
    throw error;
  }
}

/**
 * Resolves the source's ref, checks it is the pinned commit and that the build's name and
 * version are honest for it, and builds that commit (or finds its image). A missing
 * repository or ref makes the build unavailable; a ref that resolves to another commit, a
 * dishonest label, or a tree that does not build is an error with the reason.
 */
export async function buildFromGit(
  build: { name: string; version: string },
  source: GitSource,
  ctx: GitBuildContext,
): Promise<GitBuildResult> {
  // the ref must resolve to the pinned commit below, so a clone from a URL cannot change what is built
  const opened = await openRepository(source.repository, ctx.settings, true);
  if (!opened.ok) return { ok: false, status: "unavailable", reason: opened.reason };
  const { mirror } = opened;
  const commit = await mirror.resolve(source.ref, source.commit);
  if (!commit) return { ok: false, status: "unavailable", reason: `${source.repository} has no ref ${source.ref}` };
  if (commit !== source.commit) {
    return {
      ok: false,
      status: "error",
      reason: `${source.repository}: ${source.ref} resolves to ${commit}, not the pinned ${source.commit}`,
    };
  }
  const info = await mirror.info(commit);
  const named = gitNameProblem(build, info, source.cherryPicks);
  if (named) return { ok: false, status: "error", reason: named };
  let patched: { archive: Buffer; patches: AppliedPatch[] } | undefined;
  if (source.cherryPicks?.length) {
    const picked = await cherryPick(mirror, info, source.cherryPicks);
    if (!picked.ok) return { ok: false, status: "error", reason: `iptables ${build.name}: ${picked.reason}`, info };
    patched = picked;
  }
  const built = await buildCommit(build, mirror, commit, ctx, patched);
  const printed = built.ok ? gitVersionProblem(build, built.versions) : undefined;
  return printed ? { ok: false, status: "error", reason: printed, info: built.info } : built;
}

/**
 * Builds one commit of a mirror under the build's name (or finds its image); with `patched`,
 * the commit's tree with those cherry-picks applied instead of the commit's own.
 */
export async function buildCommit(
  build: { name: string },
  mirror: GitMirror,
  commit: string,
  ctx: GitBuildContext,
  patched?: { archive: Buffer; patches: AppliedPatch[] },
): Promise<GitBuildResult> {
  const info = await mirror.info(commit);
  const toolchainTag = await ensureToolchain(ctx.docker, ctx.baseTag, ctx.log);
  const patches = patched?.patches ?? [];
  const recipe = gitIptablesRecipe(
    build,
    { toolchainTag, baseTag: ctx.baseTag },
    patched?.archive ?? (await mirror.archive(commit)),
    info,
    ctx.wrappers,
    patches,
  );
  try {
    const { tag, built } = await ensureImage(ctx.docker, recipe, (line) => ctx.log(`iptables ${build.name}: ${line}`));
    const provenance = parseProvenance(await readImageFile(ctx.docker, tag, provenanceFile(build)));
    return { ok: true, tag, built, info, versions: provenance.get("version") ?? [], patches };
  } catch (error) {
    if (!(error instanceof ImageBuildError)) throw error;
    return {
      ok: false,
      status: "error",
      reason: `${info.describe} does not build: ${error.logTail.split("\n").slice(-12).join("\n")}`,
      info,
    };
  }
}
