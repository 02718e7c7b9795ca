import { access, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Settings } from "../../config/schema.js";
import { obtainTarball, sha256, tarballDir, type TarballResult } from "./tarball-source.js";

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

/**
 * A sha256-pinned upstream source archive: the local source directory first, then the
 * tarball cache and upstream URLs (only with settings.allowDownloads). The reason of a
 * miss names every place tried.
 */
export async function obtainSource(
  request: { file: string; sha256: string; urls: string[] },
  settings: Pick<Settings, "sourceDir" | "tarballDir" | "allowDownloads">,
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
  const fallback = await obtainTarball(
    { file: request.file, sha256: request.sha256, urls: request.urls },
    { dir: tarballDir(settings.tarballDir), mirror: undefined, allowDownloads: settings.allowDownloads },
  );
  if (fallback.ok) return { ...fallback, path: join(tarballDir(settings.tarballDir), request.file) };
  return { ok: false, reason: `${fallback.reason}; ${localNote}` };
}
