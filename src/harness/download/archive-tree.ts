import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";

export type ArchiveTree = { ok: true; treeId: string; prefix: string; files: number } | { ok: false; reason: string };

interface TreeEntry {
  mode: "100644" | "100755" | "120000" | "40000";
  id: Buffer;
}

type Dir = Map<string, TreeEntry | Dir>;

const objectId = (kind: "blob" | "tree", body: Buffer) =>
  createHash("sha1").update(`${kind} ${body.length}\0`).update(body).digest();

/** Git's order of tree entries: byte order of the names, a directory's name read with a trailing slash. */
const sortKey = (name: string, isDir: boolean) => Buffer.from(isDir ? `${name}/` : name);

function treeIdOf(dir: Dir): Buffer {
  const entries = [...dir.entries()].map(([name, item]) => {
    const isDir = item instanceof Map;
    const entry: TreeEntry = isDir ? { mode: "40000", id: treeIdOf(item) } : item;
    return { name, key: sortKey(name, isDir), entry };
  });
  entries.sort((a, b) => Buffer.compare(a.key, b.key));
  const body = Buffer.concat(entries.flatMap(({ name, entry }) => [Buffer.from(`${entry.mode} ${name}\0`), entry.id]));
  return objectId("tree", body);
}

async function decompressed(path: string): Promise<{ stream: Readable; done: Promise<string | undefined> }> {
  const handle = await open(path);
  const magic = Buffer.alloc(6);
  await handle.read(magic, 0, 6, 0).finally(() => handle.close());
  if (magic[0] === 0x1f && magic[1] === 0x8b)
    return { stream: createReadStream(path).pipe(createGunzip()), done: Promise.resolve(undefined) };
  if (magic.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    const xz = spawn("xz", ["-dc", path], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    xz.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<string | undefined>((resolve) => {
      xz.on("error", (error) => resolve(`xz: ${error.message}`));
      xz.on("close", (code) => resolve(code === 0 ? undefined : `xz -dc exit ${code}: ${stderr.trim()}`));
    });
    return { stream: xz.stdout, done };
  }
  return { stream: createReadStream(path), done: Promise.resolve(undefined) };
}

/**
 * The git tree id of the files a source archive holds under its one top directory, computed
 * from the files themselves (blobs, modes, symlinks): for a `git archive` of a tag it is
 * `git rev-parse <tag>^{tree}` (when the repository marks nothing export-ignore or
 * export-subst), whatever compressor made the archive, so the tree pins the content and not
 * the bytes of one compression.
 */
export async function archiveTreeId(path: string): Promise<ArchiveTree> {
  const root: Dir = new Map();
  let prefix: string | undefined;
  let files = 0;
  let problem: string | undefined;
  const unpack = extract();
  unpack.on("entry", (header, body, next) => {
    const chunks: Buffer[] = [];
    body.on("data", (chunk) => chunks.push(chunk as Buffer));
    body.on("end", () => {
      const parts = header.name.replace(/\/+$/, "").split("/").filter(Boolean);
      const top = parts.shift();
      if (!top) return next();
      if (prefix === undefined) prefix = top;
      if (top !== prefix) problem ??= `entries under both ${prefix}/ and ${top}/: not one source tree`;
      const name = parts.pop();
      if (!name) return next();
      let dir = root;
      for (const part of parts) {
        const child = dir.get(part);
        if (child instanceof Map) dir = child;
        else {
          const made: Dir = new Map();
          dir.set(part, made);
          dir = made;
        }
      }
      if (header.type === "directory") {
        if (!(dir.get(name) instanceof Map)) dir.set(name, new Map());
      } else if (header.type === "symlink") {
        dir.set(name, { mode: "120000", id: objectId("blob", Buffer.from(header.linkname ?? "")) });
        files++;
      } else if (header.type === "file" || header.type === "contiguous-file") {
        const executable = ((header.mode ?? 0o644) & 0o100) !== 0;
        dir.set(name, { mode: executable ? "100755" : "100644", id: objectId("blob", Buffer.concat(chunks)) });
        files++;
      } else {
        problem ??= `${header.name}: a ${header.type} entry, which no git tree holds`;
      }
      next();
    });
    body.resume();
  });
  try {
    const { stream, done } = await decompressed(path);
    await pipeline(stream, unpack);
    problem ??= await done;
  } catch (error) {
    return { ok: false, reason: `${path}: not a readable tar archive (${(error as Error).message})` };
  }
  if (problem) return { ok: false, reason: problem };
  if (prefix === undefined || files === 0) return { ok: false, reason: `${path}: an empty archive` };
  // Git keeps no empty directories.
  prune(root);
  return { ok: true, treeId: treeIdOf(root).toString("hex"), prefix, files };
}

function prune(dir: Dir): boolean {
  for (const [name, item] of dir) if (item instanceof Map && prune(item)) dir.delete(name);
  return dir.size === 0;
}
