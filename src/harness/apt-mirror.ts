import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../errors.js";

/**
 * The Debian mirror to use, never hard-coded: FWCOMPAT_DEBIAN_MIRROR, else the first
 * Debian URI in the machine's apt sources (deb822 `URIs:` or one-line `deb` entries).
 */
export async function debianMirror(aptDir = "/etc/apt"): Promise<string> {
  const fromEnv = process.env.FWCOMPAT_DEBIAN_MIRROR;
  if (fromEnv) return fromEnv.replace(/\/+$/, "");
  const texts: string[] = [];
  const listDir = join(aptDir, "sources.list.d");
  const names = await readdir(listDir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    if (name.endsWith(".sources") || name.endsWith(".list")) texts.push(await readFile(join(listDir, name), "utf8").catch(() => ""));
  }
  texts.push(await readFile(join(aptDir, "sources.list"), "utf8").catch(() => ""));
  const uri = texts.map(firstDebianUri).find((found) => found !== undefined);
  if (!uri) {
    throw new UserError("no Debian mirror found in /etc/apt sources; set FWCOMPAT_DEBIAN_MIRROR to the mirror's base URL");
  }
  return uri.replace(/\/+$/, "");
}

export function firstDebianUri(text: string): string | undefined {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const deb822 = /^URIs:\s*(\S+)/i.exec(line);
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
    const uri = deb822?.[1] ?? oneLine?.[1];
    if (uri && /\/debian\/?$/.test(uri)) return uri;
  }
  return undefined;
}
