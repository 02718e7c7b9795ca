import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LIMITS, downloadPinned, type DownloadLimits } from "../download/pinned-download.js";
import { urlsNotDownloaded } from "../../config/downloads.js";

export interface TarballRequest {
  file: string;
  sha256: string;
  mirrorPath?: string;
  urls: string[];
}

export type TarballResult = { ok: true; data: Buffer; origin: string } | { ok: false; reason: string };

export function tarballDir(configured?: string): string {
  return process.env.FWCOMPAT_TARBALL_DIR ?? configured ?? join(homedir(), ".cache", "fwcompat", "tarballs");
}

/** Where a download of this content is kept: by its hash, so two pins of one file name never meet. */
export const contentCachePath = (dir: string, contentKey: string, file: string) => join(dir, contentKey, file);

export interface TarballOptions {
  dir: string;
  mirror: string | undefined;
  /** whether the upstream `urls` may be tried (the mirror always may: it is the machine's package source) */
  allowDownloads: boolean;
  limits?: DownloadLimits;
}

/**
 * Finds a sha256-pinned file: the cache directory first (as downloaded, or put there by hand),
 * then the Debian mirror, then other URLs only when downloads are allowed. A file whose hash
 * differs is never used, and a download is kept only once its hash matched.
 */
export async function obtainTarball(request: TarballRequest, options: TarballOptions): Promise<TarballResult> {
  const tried: string[] = [];
  const cachedPath = contentCachePath(options.dir, `sha256-${request.sha256}`, request.file);
  const placed = join(options.dir, request.file);
  const cached = await readFile(cachedPath).catch(() => undefined);
  if (cached && sha256(cached) === request.sha256) return { ok: true, data: cached, origin: `cache ${cachedPath}` };
  const local = await readFile(placed).catch(() => undefined);
  if (local) {
    if (sha256(local) === request.sha256) return { ok: true, data: local, origin: `local ${placed}` };
    tried.push(`${placed} has sha256 ${sha256(local).slice(0, 12)}…, expected ${request.sha256.slice(0, 12)}…`);
  } else {
    tried.push(`not in ${options.dir}`);
  }
  const remotes: Array<{ url: string; label: string }> = [];
  if (request.mirrorPath && options.mirror)
    remotes.push({ url: `${options.mirror}/${request.mirrorPath}`, label: "Debian mirror" });
  if (options.allowDownloads) remotes.push(...request.urls.map((url) => ({ url, label: url })));
  else if (request.urls.length > 0) tried.push(urlsNotDownloaded(request.urls.length));
  for (const remote of remotes) {
    const fetched = await downloadPinned(
      { url: remote.url, dest: cachedPath, sha256: request.sha256 },
      options.limits ?? DEFAULT_LIMITS,
    );
    if (!fetched.ok) {
      // the URL is the label of an upstream; the mirror's address is the machine's, named by its label only
      tried.push(
        remote.label === remote.url
          ? fetched.reason
          : `${remote.label}: ${fetched.reason.slice(remote.url.length + 2)}`,
      );
      continue;
    }
    return { ok: true, data: await readFile(fetched.path), origin: remote.label };
  }
  return { ok: false, reason: `${request.file} unobtainable: ${tried.join("; ")}` };
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
