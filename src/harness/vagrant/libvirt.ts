import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { execa } from "execa";
import { UserError } from "../../errors.js";
import { TIMEOUT_MS } from "../../contract/timeouts.js";
import { runLocal } from "../local-command.js";

const QEMU_CONF = "/etc/libvirt/qemu.conf";
const ROOT_SETTINGS = `\n# fwcompat: run QEMU as root so libvirt does not re-probe it on every call\nuser = "root"\ngroup = "root"\n`;

export interface LibvirtSession {
  /** "kvm" where /dev/kvm really works, else "qemu" (software emulation) */
  driver: "kvm" | "qemu";
  stop(): Promise<void>;
}

/** virsh on the system libvirt; a failure is in the result (exitCode, stderr), never thrown. */
/** virsh against the system libvirtd, bounded by its kind of call (most are quick; save and restore move a VM's memory). */
export const virsh = (
  args: readonly string[],
  kind: "virsh" | "virshVersion" | "virshAddress" | "virshSaveRestore" = "virsh",
) => runLocal(kind, "virsh", ["-c", "qemu:///system", ...args]);

const virshWorks = async () => (await virsh(["version"], "virshVersion")).exitCode === 0;

/**
 * /dev/kvm can exist and even open without working (nested sandboxes: QEMU then aborts, or
 * stops with "KVM internal error ... emulation failure" as soon as the guest runs an
 * instruction KVM cannot emulate, e.g. early in a Debian kernel's boot). So boot the box's
 * own kernel under KVM when there is one (it must get as far as looking for its root file
 * system), else run a bare vCPU for two seconds. FWCOMPAT_VM_ACCEL=kvm|qemu overrides this.
 */
export async function kvmUsable(kernel?: string): Promise<boolean> {
  const forced = process.env.FWCOMPAT_VM_ACCEL;
  if (forced === "kvm" || forced === "qemu") return forced === "kvm";
  if (!existsSync("/dev/kvm")) return false;
  const base = ["-accel", "kvm", "-cpu", "host", "-display", "none", "-nodefaults", "-no-reboot"];
  if (kernel && existsSync(kernel)) {
    const boot = runLocal(
      "kvmBoot",
      "qemu-system-x86_64",
      [
        ...base,
        "-m",
        "256",
        "-kernel",
        kernel,
        "-append",
        "console=ttyS0 panic=-1",
        "-serial",
        "stdio",
        "-monitor",
        "none",
      ],
      { all: true },
    );
    let output = "";
    // QEMU stays up (paused) after a KVM failure: stop it as soon as either answer shows.
    boot.all?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (/KVM internal error|VFS: |Kernel panic/.test(output)) boot.kill();
    });
    await boot;
    return !/KVM internal error/.test(output) && /VFS: |Kernel panic/.test(output);
  }
  const probe = runLocal("kvmProbe", "qemu-system-x86_64", [...base, "-M", "pc", "-m", "64", "-monitor", "stdio"], {
    all: true,
  });
  setTimeout(() => probe.stdin?.end("quit\n"), TIMEOUT_MS.kvmProbeQuitAfter);
  const result = await probe;
  return result.exitCode === 0 && !/KVM internal error/.test(result.all ?? "");
}

/**
 * Makes libvirt usable: starts virtlogd and libvirtd when none answers (there is no init to
 * ask here) with QEMU running as root, and undoes exactly what it did when stopped.
 */
export async function startLibvirt(log: (line: string) => void): Promise<LibvirtSession> {
  for (const tool of ["vagrant", "virsh", "libvirtd", "qemu-system-x86_64", "qemu-img", "debootstrap"]) {
    const found = await execa("sh", ["-c", `command -v ${tool}`], { reject: false });
    if (found.exitCode !== 0)
      throw new UserError(`the VM lane needs ${tool}; install it with: bash scripts/setup.sh --vm`);
  }
  const started: number[] = [];
  let originalConf: string | undefined;
  if (!(await virshWorks())) {
    originalConf = await readFile(QEMU_CONF, "utf8").catch(() => undefined);
    if (originalConf !== undefined && !/^user = "root"/m.test(originalConf))
      await writeFile(QEMU_CONF, originalConf + ROOT_SETTINGS);
    else originalConf = undefined;
    log("starting virtlogd and libvirtd");
    for (const daemon of ["virtlogd", "libvirtd"]) {
      const child = execa(daemon, [], { detached: true, stdio: "ignore", reject: false });
      child.unref();
      if (child.pid) started.push(child.pid);
    }
    const deadline = Date.now() + TIMEOUT_MS.libvirtdStart;
    while (!(await virshWorks())) {
      if (Date.now() > deadline)
        throw new UserError("libvirtd did not answer within 60 s; see its log in /var/log/libvirt");
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return {
    // decided for real once the box (and its kernel) is there: see startVmLane
    driver: (await kvmUsable()) ? "kvm" : "qemu",
    async stop() {
      for (const pid of started.reverse()) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      if (originalConf !== undefined) await writeFile(QEMU_CONF, originalConf);
    },
  };
}

/** The IPv4 addresses in a `virsh domifaddr` or `virsh net-dhcp-leases` table (without the prefix length). */
export function parseIpv4Addresses(table: string): string[] {
  return table.split("\n").flatMap((line) => {
    const address = /\sipv4\s+(\d{1,3}(?:\.\d{1,3}){3})\/\d+/.exec(line)?.[1];
    return address ? [address] : [];
  });
}

/** The address the domain leased from its libvirt network (what `vagrant up` waited for). */
export async function domainAddress(domain: string): Promise<string> {
  const result = await virsh(["domifaddr", domain, "--source", "lease"], "virshAddress");
  const address = parseIpv4Addresses(result.stdout)[0];
  if (!address)
    throw new Error(`virsh domifaddr ${domain} named no IPv4 address: ${result.stderr.trim() || result.stdout.trim()}`);
  return address;
}
