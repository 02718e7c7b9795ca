import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { execa } from "execa";
import { UserError } from "../../errors.js";

const QEMU_CONF = "/etc/libvirt/qemu.conf";
const ROOT_SETTINGS = `\n# fwcompat: run QEMU as root so libvirt does not re-probe it on every call\nuser = "root"\ngroup = "root"\n`;

export interface LibvirtSession {
  /** "kvm" where /dev/kvm really works, else "qemu" (software emulation) */
  driver: "kvm" | "qemu";
  stop(): Promise<void>;
}

/** virsh on the system libvirt; a failure is in the result (exitCode, stderr), never thrown. */
export const virsh = (args: readonly string[], timeoutMs = 60_000) => execa("virsh", ["-c", "qemu:///system", ...args], { reject: false, timeout: timeoutMs });

const virshWorks = async () => (await virsh(["version"], 10_000)).exitCode === 0;

/**
 * /dev/kvm can exist and even open without working (nested sandboxes: QEMU then aborts
 * when the first vCPU runs). So run a vCPU for real for two seconds, then ask QEMU to quit.
 */
export async function kvmUsable(): Promise<boolean> {
  if (!existsSync("/dev/kvm")) return false;
  const probe = execa("qemu-system-x86_64", ["-accel", "kvm", "-M", "pc", "-cpu", "host", "-m", "64", "-display", "none", "-nodefaults", "-monitor", "stdio"], {
    reject: false,
    timeout: 20_000,
  });
  setTimeout(() => probe.stdin?.end("quit\n"), 2000);
  return (await probe).exitCode === 0;
}

/**
 * Makes libvirt usable: starts virtlogd and libvirtd when none answers (there is no init to
 * ask here) with QEMU running as root, and undoes exactly what it did when stopped.
 */
export async function startLibvirt(log: (line: string) => void): Promise<LibvirtSession> {
  for (const tool of ["vagrant", "virsh", "libvirtd", "qemu-system-x86_64", "qemu-img", "debootstrap"]) {
    const found = await execa("sh", ["-c", `command -v ${tool}`], { reject: false });
    if (found.exitCode !== 0) throw new UserError(`the VM lane needs ${tool}; install it with: bash scripts/setup.sh --vm`);
  }
  const started: number[] = [];
  let originalConf: string | undefined;
  if (!(await virshWorks())) {
    originalConf = await readFile(QEMU_CONF, "utf8").catch(() => undefined);
    if (originalConf !== undefined && !/^user = "root"/m.test(originalConf)) await writeFile(QEMU_CONF, originalConf + ROOT_SETTINGS);
    else originalConf = undefined;
    log("starting virtlogd and libvirtd");
    for (const daemon of ["virtlogd", "libvirtd"]) {
      const child = execa(daemon, [], { detached: true, stdio: "ignore", reject: false });
      child.unref();
      if (child.pid) started.push(child.pid);
    }
    const deadline = Date.now() + 60_000;
    while (!(await virshWorks())) {
      if (Date.now() > deadline) throw new UserError("libvirtd did not answer within 60 s; see its log in /var/log/libvirt");
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const driver = (await kvmUsable()) ? "kvm" : "qemu";
  return {
    driver,
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
