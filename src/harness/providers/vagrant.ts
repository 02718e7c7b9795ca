import { randomBytes, randomInt } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { ExecResult } from "../../contract/exec.js";
import type { Host, HostProvider, HostSpec, Peer } from "../host.js";
import { HOST_FILES } from "../../contract/host-commands.js";
import { HOST_PATHS, IPTABLES_BUILDS_DIR } from "../../contract/host-contract.js";
import { boxImage, VAGRANT_HOME } from "../vagrant/box.js";
import { acquireSlot, restoreVm, savedVmKey, saveVm, type SavedVmSlot } from "../vagrant/saved-vm.js";
import { domainAddress, virsh, type LibvirtSession } from "../vagrant/libvirt.js";
import { sshConfig, startMaster, stopMaster } from "../vagrant/ssh.js";
import { processAlive } from "../process-alive.js";
import { packageFile } from "../package-files.js";
import { EMULATED_VM_SLOWDOWN, TIMEOUT_MS } from "../../contract/timeouts.js";
import { runLocal } from "../local-command.js";

const TEMPLATE = packageFile("vagrant", "Vagrantfile");
export const VAGRANT_RUNS = join(homedir(), ".cache", "fwcompat", "vagrant-runs");
/** /run is a tmpfs in the guest; the box's docker.io package may not have made /etc/docker. */
const PREPARE_HOST = `mkdir -p ${HOST_PATHS.runDir} ${HOST_FILES.dockerConfigDir}`;
const VM_CPUS = 1;
const VM_MEMORY_MIB = 1024;
/**
 * Run in a freshly booted VM before it is saved: wait until its boot has finished (a unit
 * still starting would start again in every restored VM), read the engine's programs into the
 * page cache (they come back with the saved memory instead of from the emulated disk), and
 * write everything out to the disk the saved VM keeps.
 */
const BEFORE_SAVE = [
  "timeout 120 systemctl is-system-running --wait >/dev/null || true",
  PREPARE_HOST,
  'for p in dockerd docker containerd containerd-shim-runc-v2 runc docker-proxy docker-init busybox; do f=$(command -v $p) && cat "$f" >/dev/null; done',
  `find ${IPTABLES_BUILDS_DIR} -type f -exec cat {} + >/dev/null`,
  "sync",
].join("\n");

/** What vagrant-libvirt prints once the box is in the pool (locales/en.yml, creating_domain_volume). */
const PAST_UPLOAD = "Creating image (snapshot of base box volume)";

/** vagrant-libvirt names the domain after default_prefix (the VM's name) and the machine ("default"). */
const domainName = (vmName: string) => `${vmName}default`;

type Runner = (
  bounded: string[],
  script: string,
  deadlineMs: number,
) => Promise<{ exitCode?: number; stdout?: string; stderr?: string }>;

/** Runs a shell script (fed on stdin) under `timeout`; the outer deadline bounds ssh itself. */
async function shell(script: string, run: Runner, timeoutMs: number): Promise<ExecResult> {
  const started = performance.now();
  const seconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  const result = await run(["timeout", "-k", "2", seconds, "sh", "-s"], script, timeoutMs + TIMEOUT_MS.vmShSlack);
  return {
    exitCode: result.exitCode ?? -1,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
    ms: Math.round(performance.now() - started),
  };
}

/**
 * Disposable Vagrant VMs (libvirt) with their own kernel. One VM per host, restored from a
 * saved VM that Vagrant booted once (see saved-vm.ts); commands go over plain ssh sharing one
 * master connection per VM; the machine running the harness is the external peer.
 */
export class VagrantProvider implements HostProvider {
  readonly name = "vagrant" as const;
  private readonly dirs = new Set<string>();
  private closed = false;
  private boxInPool: Promise<void> | undefined;

  constructor(
    private readonly runId: string,
    private readonly libvirt: LibvirtSession,
  ) {}

  private get driver(): "kvm" | "qemu" {
    return this.libvirt.driver;
  }

  private get runDir(): string {
    return join(VAGRANT_RUNS, this.runId);
  }

  async start(spec: HostSpec): Promise<Host> {
    if (this.closed) throw new Error("the run is shutting down");
    await mkdir(this.runDir, { recursive: true });
    await writeFile(join(this.runDir, "owner.json"), JSON.stringify({ pid: process.pid, hostname: hostname() }));
    const slot = await acquireSlot(await this.savedVmKey(spec.image));
    let dir: string | undefined;
    try {
      if (!slot.ready) await this.bootAndSave(slot, spec.image);
      // what a killed run leaves (domain, network, overlay) is found through this directory
      const hostDir = await this.hostDir(spec.label, { name: slot.name, disk: slot.disk });
      dir = hostDir;
      const address = await restoreVm(slot);
      const host = await this.connect(hostDir, slot.name, address, "restored from a saved booted VM", () =>
        this.destroy(hostDir).finally(() => slot.release()),
      );
      // a restored guest's clock stands where it was saved: the steps and the trace are timed by it
      const prepared = await host.sh(
        `date -s @${(Date.now() / 1000).toFixed(3)} >/dev/null && ${PREPARE_HOST}`,
        TIMEOUT_MS.hostExec,
      );
      if (prepared.exitCode !== 0)
        throw new Error(`preparing the VM failed (exit ${prepared.exitCode}): ${prepared.stderr.trim()}`);
      return host;
    } catch (error) {
      if (dir) await this.destroy(dir);
      await slot.release();
      throw error;
    }
  }

  /** A directory of the run for one VM, with what destroyVagrantDir needs to remove it. */
  private async hostDir(label: string, config: Record<string, unknown>): Promise<string> {
    const dir = join(
      this.runDir,
      `${label.replace(/[^a-zA-Z0-9_.-]/g, "_").slice(0, 40)}-${randomBytes(3).toString("hex")}`,
    );
    await mkdir(dir, { recursive: true });
    this.dirs.add(dir);
    await writeFile(join(dir, "fwcompat-vm.json"), JSON.stringify(config));
    return dir;
  }

  /**
   * What a saved VM depends on: the box (a hash of all it holds), the very file of its disk image,
   * the VM's settings and what runs in it before the save. A box rebuilt under the same name is not
   * the same bytes (debootstrap is not reproducible); a saved disk over the new image reads as a
   * corrupt file system in the guest ("Bad message"), so the image file's identity is in the key.
   */
  private async savedVmKey(box: string): Promise<string> {
    const image = await stat(boxImage(box));
    return savedVmKey({
      box,
      boxImage: `${image.ino}:${image.size}:${Math.round(image.mtimeMs)}`,
      driver: this.driver,
      cpus: VM_CPUS,
      memory: VM_MEMORY_MIB,
      vagrantfile: await readFile(TEMPLATE, "utf8"),
      beforeSave: BEFORE_SAVE,
    });
  }

  /** Boots a VM from the box with Vagrant, lets it settle, and saves it into the slot (the VM stops and is removed). */
  private async bootAndSave(slot: SavedVmSlot, box: string): Promise<void> {
    const serialLog = join(this.runDir, `${slot.name}-boot.log`);
    const dir = await this.hostDir(`boot-${slot.name}`, {
      box,
      name: slot.name,
      driver: this.driver,
      cpus: VM_CPUS,
      memory: VM_MEMORY_MIB,
      serial_log: serialLog,
      network_name: slot.name,
      // a subnet of its own per saved VM (restored VMs keep it), picked at random so other runs' networks do not collide
      network_address: `10.${randomInt(200, 250)}.${randomInt(0, 255)}.0/24`,
    });
    try {
      await copyFile(TEMPLATE, join(dir, "Vagrantfile"));
      const env = { VAGRANT_HOME, VAGRANT_CWD: dir, VAGRANT_DEFAULT_PROVIDER: "libvirt" };
      // No provisioners: each would be another `vagrant ssh` (seconds under emulation).
      const up = await this.vagrantUp(env);
      if (up.exitCode !== 0) {
        // Ruby's backtrace lines ("from ...") hide the message that matters.
        const message = (up.all ?? "")
          .split("\n")
          .filter((l) => !/^\s+from /.test(l))
          .slice(-4)
          .join("\n");
        throw new Error(`vagrant up failed: ${message}`);
      }
      // `vagrant ssh-config` takes 7-14 s under emulation; libvirt knows the address at once.
      const address = await domainAddress(domainName(slot.name));
      const vm = await this.connect(dir, slot.name, address, "booting", async () => {});
      const settled = await vm.sh(BEFORE_SAVE, TIMEOUT_MS.vmSettle);
      if (settled.exitCode !== 0)
        throw new Error(`preparing the VM for saving failed (exit ${settled.exitCode}): ${settled.stderr.trim()}`);
      await stopMaster(slot.name);
      await saveVm(slot, { domain: domainName(slot.name), boxImage: boxImage(box), serialLog, address });
    } finally {
      await this.destroy(dir);
    }
  }

  /** The VM's ssh config and shared master connection. */
  private async connect(
    dir: string,
    vmName: string,
    address: string,
    how: string,
    remove: () => Promise<void>,
  ): Promise<VagrantHost> {
    const configFile = join(dir, "ssh-config");
    await writeFile(configFile, sshConfig({ address, vmName }));
    await startMaster(configFile);
    const kvm = this.driver === "kvm" ? "KVM" : "software emulation (TCG)";
    const timeoutScale = this.driver === "kvm" ? 1 : EMULATED_VM_SLOWDOWN;
    return new VagrantHost(dir, vmName, address, `vagrant/libvirt VM, ${kvm}, ${how}`, remove, timeoutScale);
  }

  /**
   * The first `vagrant up` of a run uploads the box into libvirt's pool; two at once both try
   * and one fails ("storage volume ... exists already"). So the others wait until the first
   * has gone past the upload (or ended), then boot alongside it.
   */
  private async vagrantUp(env: Record<string, string>) {
    const up = () =>
      runLocal("vagrantUp", "vagrant", ["up", "--provider=libvirt", "--no-provision"], { env, all: true });
    if (this.boxInPool) {
      await this.boxInPool;
      return await up();
    }
    let release = () => {};
    this.boxInPool = new Promise<void>((resolve) => (release = resolve));
    const first = up();
    let output = "";
    first.all?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(PAST_UPLOAD)) release();
    });
    try {
      return await first;
    } finally {
      release();
    }
  }

  private async destroy(dir: string): Promise<void> {
    this.dirs.delete(dir);
    await destroyVagrantDir(dir);
  }

  async peer(): Promise<Peer> {
    return {
      sh: (script, timeoutMs = TIMEOUT_MS.hostExec) =>
        shell(
          script,
          ([bin, ...args], input, deadline) =>
            execa(bin as string, args, { input, reject: false, timeout: deadline, stripFinalNewline: false }),
          timeoutMs,
        ),
    };
  }

  /** Destroys every VM of the run, the box volume libvirt copied from the box, and stops what libvirt session started. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.dirs].map((dir) => this.destroy(dir)));
    await rm(this.runDir, { recursive: true, force: true });
    await deleteBoxVolumes();
    await pruneMachineIndex();
    await this.libvirt.stop();
  }
}

/** vagrant-libvirt uploads the box into the default pool once; it is ours to remove when the run ends. */
async function deleteBoxVolumes(): Promise<void> {
  for (const volume of (await poolVolumes()).filter((v) => v.startsWith("fwcompat-VAGRANTSLASH-")))
    await virsh(["vol-delete", volume, "--pool", "default"]);
}

/** The volumes of libvirt's default pool (this virsh has no `vol-list --name`: the table's first column). */
async function poolVolumes(): Promise<string[]> {
  const table = (await virsh(["vol-list", "default"])).stdout.split("\n").slice(2);
  return table.map((line) => line.trim().split(/\s+/)[0] ?? "").filter(Boolean);
}

/**
 * Vagrant's global machine index still lists the VMs destroyed through libvirt: prune it once
 * per run, not once per VM (vagrant's own start-up costs seconds).
 */
async function pruneMachineIndex(): Promise<void> {
  await runLocal("vagrantStatus", "vagrant", ["global-status", "--prune"], { env: { VAGRANT_HOME } });
}

/**
 * Removes what `vagrant up` made for the VM, straight through libvirt (`vagrant destroy -f`
 * costs 4-6 s and does no more): the ssh master, the domain with its disk, any disk volume a
 * cut-off `vagrant up` left unattached, the VM's network, and the directory.
 */
export async function destroyVagrantDir(dir: string): Promise<void> {
  const config = await readFile(join(dir, "fwcompat-vm.json"), "utf8").catch(() => "{}");
  const { name, disk } = JSON.parse(config) as { name?: string; disk?: string };
  if (name) {
    await stopMaster(name);
    const domains = (await virsh(["list", "--all", "--name"])).stdout.split("\n").filter((d) => d.startsWith(name));
    for (const domain of domains) {
      await virsh(["destroy", domain]);
      await virsh(["undefine", domain, "--remove-all-storage"]);
    }
    for (const volume of (await poolVolumes()).filter((v) => v.startsWith(name)))
      await virsh(["vol-delete", volume, "--pool", "default"]);
    await virsh(["net-destroy", name]);
    await virsh(["net-undefine", name]);
  }
  // a restored VM's overlay of its saved disk
  if (disk) await rm(disk, { force: true });
  await rm(dir, { recursive: true, force: true });
}

class VagrantHost implements Host {
  readonly provider = "vagrant" as const;
  constructor(
    private readonly dir: string,
    readonly name: string,
    readonly address: string,
    readonly mode: string,
    private readonly remove: () => Promise<void>,
    /** every bound on a command in this VM, and every probe's timeout, is multiplied by it */
    readonly slowdown: number,
  ) {}

  sh(script: string, timeoutMs = TIMEOUT_MS.hostExec): Promise<ExecResult> {
    return shell(
      script,
      (bounded, input, deadline) =>
        // output exactly as printed, like `docker exec` on dind hosts: a step batch's last end marker ends in a newline
        execa("ssh", ["-F", join(this.dir, "ssh-config"), "default", "sudo", ...bounded], {
          input,
          reject: false,
          timeout: deadline,
          stripFinalNewline: false,
        }),
      timeoutMs * this.slowdown,
    );
  }

  dispose(): Promise<void> {
    return this.remove();
  }
}

/** Destroys the VMs of `runId`, or (without it) of runs on this machine whose process is gone. */
export async function sweepVagrant(runId?: string): Promise<number> {
  let removed = 0;
  for (const run of await readdir(VAGRANT_RUNS).catch(() => [] as string[])) {
    if (runId && run !== runId) continue;
    const runDir = join(VAGRANT_RUNS, run);
    if (!runId) {
      const owner = JSON.parse(await readFile(join(runDir, "owner.json"), "utf8").catch(() => "{}")) as {
        pid?: number;
        hostname?: string;
      };
      if (
        owner.hostname !== hostname() ||
        owner.pid === process.pid ||
        (owner.pid !== undefined && processAlive(owner.pid))
      )
        continue;
    }
    for (const host of await readdir(runDir, { withFileTypes: true })) {
      if (!host.isDirectory()) continue;
      await destroyVagrantDir(join(runDir, host.name));
      removed++;
    }
    await rm(runDir, { recursive: true, force: true });
  }
  if (removed > 0) await pruneMachineIndex();
  return removed;
}
