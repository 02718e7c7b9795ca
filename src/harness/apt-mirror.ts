import { readdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import tar from "tar-stream";
import { HOSTNAME_LABEL, PID_LABEL, ROLE_LABEL, RUN_LABEL } from "./engine.js";

/** The apt configuration read for the machine's Debian mirror: FWCOMPAT_APT_DIR, else /etc/apt. */
export function aptDir(): string {
  return process.env.FWCOMPAT_APT_DIR ?? "/etc/apt";
}

/**
 * The machine's Debian mirror, never hard-coded: FWCOMPAT_DEBIAN_MIRROR, else the first
 * Debian URI in the machine's apt sources (deb822 `URIs:` or one-line `deb` entries).
 * Undefined on a machine whose apt sources hold no Debian mirror (Ubuntu, Fedora...): such a
 * machine takes its base images from `debian:<suite>` and the mirror those images name.
 */
export async function machineDebianMirror(dir = aptDir()): Promise<string | undefined> {
  const fromEnv = process.env.FWCOMPAT_DEBIAN_MIRROR;
  if (fromEnv) return fromEnv.replace(/\/+$/, "");
  const texts: string[] = [];
  const listDir = join(dir, "sources.list.d");
  const names = await readdir(listDir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    if (name.endsWith(".sources") || name.endsWith(".list"))
      texts.push(await readFile(join(listDir, name), "utf8").catch(() => ""));
  }
  texts.push(await readFile(join(dir, "sources.list"), "utf8").catch(() => ""));
  return mirrorIn(texts);
}

/**
 * The Debian mirror a Debian image's own apt sources name. Read from a container that is
 * created (never started), labelled like every container fwcompat makes, and removed at once.
 */
export async function imageDebianMirror(docker: Docker, image: string): Promise<string | undefined> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: ["true"],
    Labels: {
      [RUN_LABEL]: "apt-sources",
      [ROLE_LABEL]: "apt-sources",
      [PID_LABEL]: String(process.pid),
      [HOSTNAME_LABEL]: hostname(),
    },
  });
  try {
    return mirrorIn(await aptSourceFiles(await container.getArchive({ path: "/etc/apt" })));
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}

function aptSourceFiles(archive: NodeJS.ReadableStream): Promise<string[]> {
  const texts: Array<{ name: string; text: string }> = [];
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk) => chunks.push(chunk as Buffer));
    stream.on("end", () => {
      if (/(^|\/)sources\.list$|\.sources$|\.list$/.test(header.name))
        texts.push({ name: header.name, text: Buffer.concat(chunks).toString("utf8") });
      next();
    });
    stream.resume();
  });
  return new Promise((resolve, reject) => {
    extract.on("finish", () => resolve(texts.sort((a, b) => a.name.localeCompare(b.name)).map((t) => t.text)));
    extract.on("error", reject);
    archive.pipe(extract);
  });
}

function mirrorIn(texts: string[]): string | undefined {
  return texts
    .map(firstDebianUri)
    .find((found) => found !== undefined)
    ?.replace(/\/+$/, "");
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
