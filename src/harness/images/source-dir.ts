import { access, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { downloadsAllowed, urlsNotDownloaded } from "../../config/downloads.js";
import type { Settings } from "../../config/schema.js";
import { archiveTreeId } from "../download/archive-tree.js";
import { DEFAULT_LIMITS, downloadPinned, type DownloadLimits } from "../download/pinned-download.js";
import { contentCachePath, obtainTarball, sha256, tarballDir, type TarballResult } from "./tarball-source.js";

/** The local source directory: FWCOMPAT_SOURCE_DIR, else settings.sourceDir; none by default. */
export function sourceDir(settings: Pick<Settings, "sourceDir">): string | undefined {
  const dir = process.env.FWCOMPAT_SOURCE_DIR || settings.sourceDir;
  return dir ? resolve(dir) : undefined;
}

/** The path of `fileName` in the local source directory, if one is set and holds it. */
export async function findLocalSource(
  fileName: string,
  settings: Pick<Settings, "sourceDir">,
): Promise<string | undefined> {
  const dir = sourceDir(settings);
  if (!dir) return undefined;
  const path = join(dir, fileName);
  return access(path).then(
    () => path,
    () => undefined,
  );
}

export interface SourceRequest {
  file: string;
  sha256: string;
  urls: string[];
  /**
   * the git tree id of the archive's files: with it, `urls` are checked by the tree they unpack
   * to (any compression of the same files passes), without it by `sha256`
   */
  treeId?: string;
}

/**
 * A pinned upstream source archive: the local source directory first (by sha256), then the
 * download cache and upstream URLs (as settings.allowDownloads allows). The reason of a miss
 * names every place tried, in one line.
 */
export async function obtainSource(
  request: SourceRequest,
  settings: Pick<Settings, "sourceDir" | "tarballDir" | "allowDownloads">,
  limits: DownloadLimits = DEFAULT_LIMITS,
): Promise<TarballResult & { path?: string }> {
  const local = await findLocalSource(request.file, settings);
  let localNote = sourceDir(settings)
    ? `not in the source directory ${sourceDir(settings)}`
    : "no source directory set (settings.sourceDir or FWCOMPAT_SOURCE_DIR)";
  if (local) {
    const data = await readFile(local);
    if (sha256(data) === request.sha256) return { ok: true, data, origin: `source directory ${local}`, path: local };
    localNote = `${local} has sha256 ${sha256(data).slice(0, 12)}…, expected ${request.sha256.slice(0, 12)}…`;
  }
  const dir = tarballDir(settings.tarballDir);
  const allowed = downloadsAllowed(settings.allowDownloads, true);
  if (request.treeId) {
    const byTree = await obtainByTree({ ...request, treeId: request.treeId }, dir, allowed, limits);
    if (byTree.ok) return byTree;
    const offNote = allowed ? "" : `; ${urlsNotDownloaded(request.urls.length)}`;
    return { ok: false, reason: `${request.file} unobtainable: ${byTree.reason}${offNote}; ${localNote}` };
  }
  const fallback = await obtainTarball(
    { file: request.file, sha256: request.sha256, urls: request.urls },
    {
      dir,
      mirror: undefined,
      allowDownloads: allowed,
      limits,
    },
  );
  if (fallback.ok) return { ...fallback, path: contentCachePath(dir, `sha256-${request.sha256}`, request.file) };
  return { ok: false, reason: `${fallback.reason}; ${localNote}` };
}

const urlFileName = (url: string) => new URL(url).pathname.split("/").filter(Boolean).pop() ?? "source.tar";

/** A download checked by the git tree its files make, cached under that tree id. */
async function obtainByTree(
  request: SourceRequest & { treeId: string },
  dir: string,
  allowed: boolean,
  limits: DownloadLimits,
): Promise<TarballResult & { path?: string }> {
  const tried: string[] = [];
  const treeProblem = async (path: string) => {
    const tree = await archiveTreeId(path);
    if (!tree.ok) return tree.reason;
    return tree.treeId === request.treeId
      ? undefined
      : `its files make git tree ${tree.treeId.slice(0, 12)}…, not the pinned ${request.treeId.slice(0, 12)}…`;
  };
  for (const url of request.urls) {
    const dest = contentCachePath(dir, `tree-${request.treeId}`, urlFileName(url));
    const cached = await readFile(dest).catch(() => undefined);
    if (cached && !(await treeProblem(dest))) return { ok: true, data: cached, origin: `cache ${dest}`, path: dest };
  }
  tried.push(`not in ${dir}`);
  if (allowed) {
    for (const url of request.urls) {
      const dest = contentCachePath(dir, `tree-${request.treeId}`, urlFileName(url));
      const fetched = await downloadPinned({ url, dest, verify: treeProblem }, limits);
      if (fetched.ok) return { ok: true, data: await readFile(fetched.path), origin: url, path: fetched.path };
      tried.push(fetched.reason);
    }
  }
  return { ok: false, reason: tried.join("; ") };
}
