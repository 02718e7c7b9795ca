import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { TIMEOUT_MS } from "../../contract/timeouts.js";

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

/**
 * Finds a sha256-pinned tarball: the local directory first, then the Debian mirror
 * (always allowed: it is the machine's package source), then other URLs only when
 * downloads are allowed. A file whose hash differs is never used.
 */
export async function obtainTarball(
  request: TarballRequest,
  options: { dir: string; mirror: string | undefined; allowDownloads: boolean; timeoutMs?: number },
): Promise<TarballResult> {
  const local = join(options.dir, request.file);
  const tried: string[] = [];
  const cached = await readFile(local).catch(() => undefined);
  if (cached) {
    if (sha256(cached) === request.sha256) return { ok: true, data: cached, origin: `local ${local}` };
    tried.push(`${local} has sha256 ${sha256(cached).slice(0, 12)}…, expected ${request.sha256.slice(0, 12)}…`);
  } else {
    tried.push(`not in ${options.dir}`);
  }
  const remotes: Array<{ url: string; label: string }> = [];
  if (request.mirrorPath && options.mirror)
    remotes.push({ url: `${options.mirror}/${request.mirrorPath}`, label: "Debian mirror" });
  if (options.allowDownloads) remotes.push(...request.urls.map((url) => ({ url, label: url })));
  else if (request.urls.length > 0)
    tried.push(`downloads from ${request.urls.length} upstream URL(s) disabled (settings.allowDownloads)`);
  for (const remote of remotes) {
    const fetched = await download(remote.url, options.timeoutMs ?? TIMEOUT_MS.download);
    if (!fetched.ok) {
      tried.push(`${remote.label}: ${fetched.reason}`);
      continue;
    }
    if (sha256(fetched.data) !== request.sha256) {
      tried.push(`${remote.label}: sha256 mismatch`);
      continue;
    }
    await mkdir(options.dir, { recursive: true });
    await writeFile(`${local}.part`, fetched.data);
    await rename(`${local}.part`, local);
    return { ok: true, data: fetched.data, origin: remote.label };
  }
  return { ok: false, reason: `${request.file} unobtainable: ${tried.join("; ")}` };
}

async function download(
  url: string,
  timeoutMs: number,
): Promise<{ ok: true; data: Buffer } | { ok: false; reason: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return { ok: false, reason: `HTTP ${response.status}` };
    return { ok: true, data: Buffer.from(await response.arrayBuffer()) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
