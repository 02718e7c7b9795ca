import type { DebSource, Settings } from "../../config/schema.js";
import { DEFAULT_LIMITS, type DownloadLimits } from "../download/pinned-download.js";
import { obtainSource } from "./source-dir.js";

export interface ObtainedDeb {
  /** the file name the .deb is kept and unpacked under */
  file: string;
  data: Buffer;
  url: string;
  sha256: string;
  origin: string;
}

/** The .deb's file name from its URL (percent-decoded: archives write an epoch's colon as %3a), made safe as a file name. */
export function debFileName(url: string): string {
  const last = new URL(url).pathname.split("/").filter(Boolean).pop() ?? "package.deb";
  let name = last;
  try {
    name = decodeURIComponent(last);
  } catch {
    // a malformed escape: keep the name as written
  }
  name = name.replace(/[^A-Za-z0-9._+~-]/g, "_");
  return name.endsWith(".deb") ? name : `${name}.deb`;
}

/**
 * Every .deb of a `deb` source, each checked by its sha256: from the local source directory,
 * the download cache, or its URL (as settings.allowDownloads allows). All or nothing: one
 * that cannot be had makes the build unavailable, in one line, before anything is unpacked.
 */
export async function obtainDebs(
  source: DebSource,
  settings: Pick<Settings, "sourceDir" | "tarballDir" | "allowDownloads">,
  limits: DownloadLimits = DEFAULT_LIMITS,
): Promise<{ ok: true; debs: ObtainedDeb[] } | { ok: false; reason: string }> {
  const debs: ObtainedDeb[] = [];
  for (const { url, sha256 } of [{ url: source.url, sha256: source.sha256 }, ...source.libraries]) {
    const file = debFileName(url);
    const got = await obtainSource({ file, sha256, urls: [url] }, settings, limits);
    if (!got.ok) return { ok: false, reason: got.reason };
    debs.push({ file, data: got.data, url, sha256, origin: got.origin });
  }
  return { ok: true, debs };
}
