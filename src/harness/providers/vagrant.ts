import { randomBytes, randomInt } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { ExecResult } from "../../contract/exec.js";
import type { Host, HostProvider, HostSpec, Peer } from "../host.js";
import { daemonJson } from "../host-ops.js";
import { VAGRANT_HOME } from "../vagrant/box.js";
import { virsh, type LibvirtSession } from "../vagrant/libvirt.js";
import { processAlive } from "../process-alive.js";
import { packageFile } from "../package-files.js";

const TEMPLATE = packageFile("vagrant", "Vagrantfile");
export const VAGRANT_RUNS = join(homedir(), ".cache", "fwcompat", "vagrant-runs");
const UP_TIMEOUT_MS = 600_000;

type Runner = (bounded: string[], script: string, deadlineMs: number) => Promise<{ exitCode?: number; stdout?: string; stderr?: string }>;

/** Runs a shell script (fed on stdin) under `timeout`; the outer deadline bounds ssh itself. */
async function shell(script: string, run: Runner, timeoutMs: number): Promise<ExecResult> {
  const started = performance.now();
  const seconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  const result = await run(["timeout", "-k", "2", seconds, "sh", "-s"], script, timeoutMs + 10_000);
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? "", ms: Math.round(performance.now() - started) };
}

/**
 * Disposable Vagrant VMs (libvirt) with their own kernel. One VM per host; commands go over
 * plain ssh after one `vagrant ssh-config`; the machine running the harness is the external peer.
 */
export class VagrantProvider implements HostProvider {
  readonly name = "vagrant" as const;
  private readonly dirs = new Set<string>();
  private closed = false;

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
    const suffix = randomBytes(3).toString("hex");
    const dir = join(this.runDir, `${spec.label.replace(/[^a-zA-Z0-9_.-]/g, "_").slice(0, 40)}-${suffix}`);
    await mkdir(dir, { recursive: true });
    this.dirs.add(dir);
    const name = `fwc-${this.runId}-${suffix}`;
    await copyFile(TEMPLATE, join(dir, "Vagrantfile"));
    await writeFile(
      join(dir, "fwcompat-vm.json"),
      JSON.stringify({
        box: spec.image,
        name,
        driver: this.driver,
        cpus: 1,
        memory: 1024,
        serial_log: join(dir, "serial.log"),
        // a subnet of its own per VM, picked at random so concurrent runs do not collide
        network_name: name,
        network_address: `10.${randomInt(200, 250)}.${randomInt(0, 255)}.0/24`,
        daemon_json: daemonJson({}),
      }),
    );
    const env = { VAGRANT_HOME, VAGRANT_CWD: dir, VAGRANT_DEFAULT_PROVIDER: "libvirt" };
    try {
      const up = await execa("vagrant", ["up", "--provider=libvirt"], { env, reject: false, all: true, timeout: UP_TIMEOUT_MS });
      if (up.exitCode !== 0) {
        // Ruby's backtrace lines ("from ...") hide the message that matters.
        const message = (up.all ?? "").split("\n").filter((l) => !/^\s+from /.test(l)).slice(-4).join("\n");
        throw new Error(`vagrant up failed: ${message}`);
      }
      const sshConfig = await execa("vagrant", ["ssh-config"], { env });
      await writeFile(join(dir, "ssh-config"), sshConfig.stdout);
      const address = /^\s*HostName\s+(\S+)/m.exec(sshConfig.stdout)?.[1];
      if (!address) throw new Error("vagrant ssh-config named no HostName");
      const kvm = this.driver === "kvm" ? "KVM" : "software emulation (TCG)";
      return new VagrantHost(dir, name, address, `vagrant/libvirt VM, ${kvm}`, () => this.destroy(dir));
    } catch (error) {
      await this.destroy(dir);
      throw error;
    }
  }

  private async destroy(dir: string): Promise<void> {
    this.dirs.delete(dir);
    await destroyVagrantDir(dir);
  }

  async peer(): Promise<Peer> {
    return {
      sh: (script, timeoutMs = 60_000) =>
        shell(script, ([bin, ...args], input, deadline) => execa(bin as string, args, { input, reject: false, timeout: deadline }), timeoutMs),
    };
  }

  /** Destroys every VM of the run, the box volume libvirt copied from the box, and stops what libvirt session started. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.dirs].map((dir) => this.destroy(dir)));
    await rm(this.runDir, { recursive: true, force: true });
    await deleteBoxVolumes();
    await this.libvirt.stop();
  }
}

/** vagrant-libvirt uploads the box into the default pool once; it is ours to remove when the run ends. */
async function deleteBoxVolumes(): Promise<void> {
  // this virsh has no `vol-list --name`: take the first column of the table
  const volumes = (await virsh(["vol-list", "default"])).stdout.split("\n").map((line) => line.trim().split(/\s+/)[0] ?? "");
  for (const volume of volumes.filter((v) => v.startsWith("fwcompat-VAGRANTSLASH-"))) await virsh(["vol-delete", volume, "--pool", "default"]);
}

/** `vagrant destroy -f`, then whatever libvirt still holds under the VM's name. */
export async function destroyVagrantDir(dir: string): Promise<void> {
  const env = { VAGRANT_HOME, VAGRANT_CWD: dir };
  await execa("vagrant", ["destroy", "-f"], { env, reject: false, timeout: 180_000 });
  const config = await readFile(join(dir, "fwcompat-vm.json"), "utf8").catch(() => "{}");
  const name = (JSON.parse(config) as { name?: string }).name;
  if (name) {
    const domains = (await virsh(["list", "--all", "--name"])).stdout.split("\n").filter((d) => d.startsWith(name));
    for (const domain of domains) {
      await virsh(["destroy", domain]);
      await virsh(["undefine", domain, "--remove-all-storage"]);
    }
    await virsh(["net-destroy", name]);
    await virsh(["net-undefine", name]);
  }
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
  ) {}

  sh(script: string, timeoutMs = 60_000): Promise<ExecResult> {
    return shell(
      script,
      (bounded, input, deadline) =>
        execa("ssh", ["-F", join(this.dir, "ssh-config"), "-o", "LogLevel=ERROR", "default", "sudo", ...bounded], { input, reject: false, timeout: deadline }),
      timeoutMs,
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
      const owner = JSON.parse(await readFile(join(runDir, "owner.json"), "utf8").catch(() => "{}")) as { pid?: number; hostname?: string };
      if (owner.hostname !== hostname() || owner.pid === process.pid || (owner.pid !== undefined && processAlive(owner.pid))) continue;
    }
    for (const host of await readdir(runDir, { withFileTypes: true })) {
      if (!host.isDirectory()) continue;
      await destroyVagrantDir(join(runDir, host.name));
      removed++;
    }
    await rm(runDir, { recursive: true, force: true });
  }
  return removed;
}
