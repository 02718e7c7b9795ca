import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { UserError } from "../../errors.js";
import { buildPrefix, HOST_TOOLS_DIR, IPTABLES_BUILDS_DIR } from "../../contract/host-contract.js";
import { packageFile } from "../package-files.js";
import type { IptablesBuild } from "../../config/schema.js";
import { runLocal } from "../local-command.js";
import { beyondMostRecent, markUsed } from "./recently-used.js";

export const BOX_SUITE = "trixie";
const BUILD_SCRIPT = packageFile("vagrant", "build-box.mjs");
const CACHE = join(homedir(), ".cache", "fwcompat");
export const VAGRANT_HOME = process.env.FWCOMPAT_VAGRANT_HOME ?? join(CACHE, "vagrant-home");

export async function vagrantPublicKey(): Promise<string> {
  const found = await execa("sh", ["-c", "dpkg -L vagrant 2>/dev/null | grep 'keys/vagrant.pub$' | head -1"], {
    reject: false,
  });
  const path = found.stdout.trim();
  if (!path)
    throw new UserError(
      "Vagrant's insecure public key (keys/vagrant.pub in the vagrant package) was not found; install vagrant with scripts/setup.sh --vm",
    );
  return path;
}

/** Where Vagrant keeps an added box. */
const addedBoxDir = (name: string) => join(VAGRANT_HOME, "boxes", name.replace(/\//g, "-VAGRANTSLASH-"));
/** Where Vagrant keeps the kernel of an added box (the box boots it directly). */
const addedBoxFile = (name: string, file: string) => join(addedBoxDir(name), "0", "libvirt", file);
/**
 * Boxes kept (about 650 MB each), the most recently used first: matrices that pick different
 * iptables builds have different boxes, and keeping only the newest rebuilt one box after the
 * other (with its saved VMs) when runs of two matrices alternate.
 */
const BOXES_KEPT = 4;
export const boxKernel = (name: string) => addedBoxFile(name, "vmlinuz");
/** The box's disk image as Vagrant keeps it (vagrant-libvirt uploads these bytes into libvirt's pool). */
export const boxImage = (name: string) => addedBoxFile(name, "box.img");

/**
 * A libvirt box of Debian trixie with every available iptables build and fwcompat's
 * in-host tools, cached by a hash of everything that goes in: an unchanged recipe rebuilds nothing.
 */
export async function ensureBox(
  input: {
    mirror: string;
    builds: ReadonlyArray<{ build: IptablesBuild; tag: string }>;
    hostFiles: Record<string, string | Buffer>;
  },
  log: (line: string) => void,
): Promise<{ name: string; built: boolean; ms: number }> {
  const started = performance.now();
  const pubkey = await vagrantPublicKey();
  const hash = createHash("sha256")
    .update(await readFile(BUILD_SCRIPT))
    .update(BOX_SUITE)
    .update(input.mirror)
    .update(await readFile(pubkey));
  for (const { build, tag } of input.builds) hash.update(`${build.name}=${tag}`);
  for (const [name, content] of Object.entries(input.hostFiles).sort()) hash.update(name).update(content);
  const name = `fwcompat/${BOX_SUITE}-${hash.digest("hex").slice(0, 16)}`;
  const env = { VAGRANT_HOME };
  const list = await execa("vagrant", ["box", "list"], { env, reject: false });
  if (list.stdout.split("\n").some((line) => line.startsWith(`${name} `))) {
    await markUsed(addedBoxDir(name));
    return { name, built: false, ms: Math.round(performance.now() - started) };
  }

  const work = await mkdtemp(join(CACHE, "box-"));
  try {
    const overlay = join(work, "overlay");
    for (const { build, tag } of input.builds) {
      const created = await execa("docker", ["create", tag, "/none"]);
      const id = created.stdout.trim();
      try {
        await mkdir(join(overlay, IPTABLES_BUILDS_DIR), { recursive: true });
        await execa("docker", ["cp", `${id}:${buildPrefix(build)}`, `${join(overlay, IPTABLES_BUILDS_DIR)}/`]);
      } finally {
        await execa("docker", ["rm", id], { reject: false });
      }
    }
    const sbin = join(overlay, HOST_TOOLS_DIR);
    await mkdir(sbin, { recursive: true });
    for (const [file, content] of Object.entries(input.hostFiles)) {
      const target = join(sbin, file.replace(/^bin\//, ""));
      await writeFile(target, content);
      await chmod(target, 0o755);
    }
    log(`building VM box ${name} (debootstrap + kernel, about 2 minutes)`);
    const boxFile = join(work, "fwcompat.box");
    const build = await runLocal(
      "boxBuild",
      process.execPath,
      [BUILD_SCRIPT, boxFile, BOX_SUITE, input.mirror, overlay, pubkey],
      { all: true },
    );
    if (build.exitCode !== 0)
      throw new Error(`box build failed: ${(build.all ?? "").split("\n").slice(-10).join("\n")}`);
    const add = await runLocal("boxAdd", "vagrant", ["box", "add", "--force", "--name", name, boxFile], {
      env,
      all: true,
    });
    if (add.exitCode !== 0)
      throw new Error(`vagrant box add failed: ${(add.all ?? "").split("\n").slice(-5).join("\n")}`);
    await markUsed(addedBoxDir(name));
    const others = list.stdout.split("\n").flatMap((line) => {
      const other = line.split(" ")[0];
      return other?.startsWith("fwcompat/") && other !== name ? [other] : [];
    });
    for (const old of await beyondMostRecent(others, addedBoxDir, BOXES_KEPT - 1))
      await execa("vagrant", ["box", "remove", "--force", "--all", old], { env, reject: false });
    return { name, built: true, ms: Math.round(performance.now() - started) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
