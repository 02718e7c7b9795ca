import { createHash } from "node:crypto";
import { copyFile, mkdir, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { processAlive } from "../process-alive.js";
import { virsh } from "./libvirt.js";
import { beyondMostRecent, markUsed } from "./recently-used.js";

/**
 * Saved VMs: a VM booted once from the box, left idle and saved by libvirt (memory and device
 * state, `virsh save`) together with its disk at that moment. An attempt restores one onto a
 * fresh copy-on-write overlay of that disk (seconds) instead of booting (40 s under emulation).
 *
 * They are cached across runs under a hash of what makes them (the box, which already hashes
 * everything installed in it, the VM's settings and what runs in the guest before the save);
 * the states of the most recently used keys are kept (one per box kept), older ones removed. A saved VM restores as the domain it was
 * (libvirt keeps its UUID), so two VMs at once need two saved VMs: "slots", each used by one
 * VM at a time under a lock file naming its process.
 */
export const VM_STATES = process.env.FWCOMPAT_VM_STATES ?? join(homedir(), ".cache", "fwcompat", "vm-states");
const MAX_SLOTS = 32;
/** as many as boxes are kept (box.ts): each box's saved VMs survive runs of the others */
const KEYS_KEPT = 4;

export interface SavedVmSlot {
  /** the domain's name prefix and its network's name (vagrant-libvirt appends "default" for the domain) */
  name: string;
  dir: string;
  /** whether a saved state is there to restore (else the holder boots a VM and saves it here) */
  ready: boolean;
  /** the attempt's writable overlay of the saved disk (removed with the VM) */
  disk: string;
  serialLog: string;
  release(): Promise<void>;
}

const paths = (dir: string) => ({
  state: join(dir, "state.sav"),
  base: join(dir, "base.qcow2"),
  disk: join(dir, "disk.qcow2"),
  network: join(dir, "network.xml"),
  address: join(dir, "address"),
  serialLog: join(dir, "serial.log"),
  lock: join(dir, "lock"),
  ready: join(dir, "ready"),
});

/** The cache key of saved VMs: everything that decides what a restored guest holds and runs. */
export function savedVmKey(parts: Record<string, string | number>): string {
  const hash = createHash("sha256");
  for (const [key, value] of Object.entries(parts).sort(([a], [b]) => a.localeCompare(b)))
    hash.update(`${key}=${value}\n`);
  return hash.digest("hex").slice(0, 16);
}

/** fwc-<key>-vmNN: the "fwc-" prefix is what the lane's clean-up and tests look for; two digits keep one name from prefixing another. */
export const slotName = (key: string, index: number) => `fwc-${key.slice(0, 8)}-vm${String(index).padStart(2, "0")}`;

/** Takes the slot's lock file; a lock whose process on this machine is gone is taken over. */
async function tryLock(lock: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(lock, "wx");
      await file.writeFile(JSON.stringify({ pid: process.pid, hostname: hostname() }));
      await file.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (lockHeld(await readFile(lock, "utf8").catch(() => ""))) return false;
      await rm(lock, { force: true });
    }
  }
  return false;
}

function lockHeld(content: string): boolean {
  const owner = JSON.parse(content || "{}") as { pid?: number; hostname?: string };
  return (
    owner.hostname !== hostname() || (owner.pid !== undefined && (owner.pid === process.pid || processAlive(owner.pid)))
  );
}

/**
 * A slot of its own for one VM: a saved one if a free one exists, else a free empty slot for
 * the caller to fill (saveVm). Saved VMs of the least recently used other keys are removed unless in use.
 */
export async function acquireSlot(key: string): Promise<SavedVmSlot> {
  await mkdir(join(VM_STATES, key), { recursive: true });
  await markUsed(join(VM_STATES, key));
  await removeOtherKeys(key);
  const slot = (index: number): SavedVmSlot => {
    const dir = join(VM_STATES, key, String(index).padStart(2, "0"));
    const p = paths(dir);
    return {
      name: slotName(key, index),
      dir,
      ready: existsSync(p.ready),
      disk: p.disk,
      serialLog: p.serialLog,
      release: () => rm(p.lock, { force: true }),
    };
  };
  for (const wantReady of [true, false]) {
    for (let index = 1; index <= MAX_SLOTS; index++) {
      const candidate = slot(index);
      if (wantReady !== candidate.ready) continue;
      await mkdir(candidate.dir, { recursive: true });
      if (!(await tryLock(paths(candidate.dir).lock))) continue;
      // taken: a slot can have been made ready by its previous holder meanwhile
      return { ...candidate, ready: existsSync(paths(candidate.dir).ready) };
    }
  }
  throw new Error(`all ${MAX_SLOTS} saved-VM slots in ${join(VM_STATES, key)} are in use`);
}

async function removeOtherKeys(key: string): Promise<void> {
  const others = (await readdir(VM_STATES).catch(() => [] as string[])).filter((other) => other !== key);
  for (const other of await beyondMostRecent(others, (o) => join(VM_STATES, o), KEYS_KEPT - 1)) {
    const slots = await readdir(join(VM_STATES, other)).catch(() => [] as string[]);
    const locks = await Promise.all(
      slots.map((s) => readFile(join(VM_STATES, other, s, "lock"), "utf8").catch(() => "")),
    );
    if (!locks.some((content) => content && lockHeld(content)))
      await rm(join(VM_STATES, other), { recursive: true, force: true });
  }
}

/** The file behind the domain's disk vda (`virsh domblklist --details`: type, device, target, source). */
async function domainDisk(domain: string): Promise<string> {
  const table = (await virsh(["domblklist", domain, "--details"])).stdout;
  const disk = table
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((cols) => cols[1] === "disk" && cols[2] === "vda")?.[3];
  if (!disk) throw new Error(`virsh domblklist ${domain} named no disk vda:\n${table}`);
  return disk;
}

/**
 * The network as a transient network can be created again: no UUID, any free bridge name (its
 * MAC and addresses stay, so the guest's lease and neighbour entry still hold), and no STP: with
 * it the bridge holds a new port in listening and learning for seconds and a restored guest is
 * at first "No route to host" (its bridge has one port, so there is no loop to guard against).
 */
export function restorableNetworkXml(xml: string): string {
  return xml
    .replace(/\s*<uuid>[^<]*<\/uuid>/, "")
    .replace(/(<bridge\b[^>]*?)\s+name='[^']*'/, "$1")
    .replace(/(<bridge\b[^>]*?\bstp=)'on'/, "$1'off'");
}

/**
 * Saves the running, idle VM `domain` (booted from `boxImage`) into the slot, and stops it.
 * The disk's overlay is copied out of libvirt's pool and pointed at the box image Vagrant
 * keeps (the same bytes as the pool's copy, which the run removes at its end); the saved
 * domain is pointed at the slot's per-attempt overlay and serial log.
 */
export async function saveVm(
  slot: SavedVmSlot,
  vm: { domain: string; boxImage: string; serialLog: string; address: string },
): Promise<void> {
  const p = paths(slot.dir);
  await rm(p.ready, { force: true });
  const disk = await domainDisk(vm.domain);
  const network = await virsh(["net-dumpxml", slot.name]);
  if (network.exitCode !== 0) throw new Error(`virsh net-dumpxml ${slot.name}: ${network.stderr.trim()}`);
  const saved = await virsh(["save", vm.domain, p.state], "virshSaveRestore");
  if (saved.exitCode !== 0) throw new Error(`virsh save ${vm.domain}: ${saved.stderr.trim()}`);
  await copyFile(disk, p.base);
  await execa("qemu-img", ["rebase", "-u", "-F", "qcow2", "-b", vm.boxImage, p.base]);
  const xml = (await virsh(["save-image-dumpxml", p.state])).stdout;
  if (!xml.includes(disk)) throw new Error(`the saved domain does not name its disk ${disk}`);
  const xmlFile = join(slot.dir, "domain.xml");
  await writeFile(xmlFile, xml.replaceAll(disk, p.disk).replaceAll(vm.serialLog, p.serialLog));
  const defined = await virsh(["save-image-define", p.state, xmlFile]);
  if (defined.exitCode !== 0) throw new Error(`virsh save-image-define: ${defined.stderr.trim()}`);
  await writeFile(p.network, restorableNetworkXml(network.stdout));
  await writeFile(p.address, vm.address);
  await writeFile(p.ready, new Date().toISOString());
}

/** Starts the slot's saved VM on a fresh overlay of its disk and a fresh copy of its network; returns its address. */
export async function restoreVm(slot: SavedVmSlot): Promise<string> {
  const p = paths(slot.dir);
  await execa("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", p.base, p.disk]);
  await virsh(["net-destroy", slot.name]); // left by a killed run, if any
  const network = await virsh(["net-create", p.network]);
  if (network.exitCode !== 0) throw new Error(`virsh net-create ${slot.name}: ${network.stderr.trim()}`);
  const restored = await virsh(["restore", p.state], "virshSaveRestore");
  if (restored.exitCode !== 0) {
    // a state that does not restore is not kept: the next VM in this slot boots and saves afresh
    await rm(p.ready, { force: true });
    throw new Error(`virsh restore ${p.state}: ${restored.stderr.trim()}`);
  }
  return (await readFile(p.address, "utf8")).trim();
}
