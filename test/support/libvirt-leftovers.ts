import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** Where libvirt keeps domains, networks, volumes and running domains' state on disk. */
const LIBVIRT_DIRS = [
  "/etc/libvirt/qemu",
  "/etc/libvirt/qemu/networks",
  "/var/lib/libvirt/images",
  "/run/libvirt/qemu",
];

/** Every file of fwcompat's (fwc-…, fwcompat-…) libvirt still holds, read on disk: libvirtd may be stopped. */
export async function libvirtLeftoversOnDisk(): Promise<string[]> {
  const found = await Promise.all(
    LIBVIRT_DIRS.map(async (dir) =>
      (await readdir(dir).catch(() => [] as string[]))
        .filter((f) => /^fwc-|^fwcompat-/.test(f))
        .map((f) => join(dir, f)),
    ),
  );
  return found.flat();
}
