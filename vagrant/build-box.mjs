#!/usr/bin/env node
// Builds a libvirt Vagrant box offline: a debootstrapped Debian with its own kernel (direct
// kernel boot), the vagrant user and key, sudo, ssh, the distro's docker.io, and fwcompat's
// iptables builds and in-host tools copied from OVERLAY_DIR (same bits as the dind hosts).
// Usage: build-box.mjs OUT.box SUITE MIRROR OVERLAY_DIR VAGRANT_PUBLIC_KEY   (as root)
/* global process, console -- a Node script */
import {
  appendFile,
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { $ } from "zx";

const [out, suite, mirror, overlay, pubkey] = process.argv.slice(2);
if (!pubkey) {
  console.error("usage: build-box.mjs OUT.box SUITE MIRROR OVERLAY_DIR VAGRANT_PUBLIC_KEY");
  process.exit(2);
}
$.quiet = true;
const work = await mkdtemp("/var/tmp/fwcompat-box.");
const root = join(work, "rootfs");
// debootstrap can leave these mounted; nothing may walk or delete a live /proc.
const unmount = () => Promise.all(["proc", "sys", "dev"].map((m) => $`umount -l ${join(root, m)}`.nothrow()));
const inRoot = (...parts) => join(root, ...parts);

try {
  const packages = [
    "linux-image-amd64",
    "systemd-sysv",
    "udev",
    "openssh-server",
    "sudo",
    "iproute2",
    "iptables",
    "docker.io",
    "docker-cli",
    "kmod",
    "e2fsprogs",
    "procps",
    "busybox-static",
    "curl",
    "ca-certificates",
    "tini",
    "initramfs-tools",
    // what linux-image-amd64 Recommends (debootstrap skips Recommends): AppArmor's userspace, so
    // profiles can be loaded (apparmor_parser) as on a default Debian install
    "apparmor",
  ];
  console.log(`box: debootstrap ${suite}`);
  const boot =
    await $`debootstrap --variant=minbase --include=${packages.join(",")} ${suite} ${root} ${mirror}`.nothrow();
  if (boot.exitCode !== 0)
    throw new Error(`debootstrap failed:\n${boot.stdout.split("\n").slice(-20).join("\n")}${boot.stderr}`);
  await unmount();

  console.log("box: configure");
  await $`cp -a ${overlay}/. ${root}/`;
  await writeFile(inRoot("etc/systemd/network/10-dhcp.network"), "[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\n");
  const units = inRoot("etc/systemd/system");
  const link = async (target, path) => {
    await rm(path, { force: true });
    await symlink(target, path);
  };
  await link(
    "/lib/systemd/system/systemd-networkd.service",
    join(units, "multi-user.target.wants/systemd-networkd.service"),
  );
  const masked = [
    "systemd-networkd-wait-online.service",
    "docker.service",
    "docker.socket",
    "containerd.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
  ];
  for (const unit of masked) await link("/dev/null", join(units, unit));
  await writeFile(inRoot("etc/fstab"), "/dev/vda / ext4 defaults 0 1\n");
  await writeFile(inRoot("etc/hostname"), "fwcompat-vm\n");
  // sudo resolves the hostname on every call; without this line each call waits for DNS to time out
  await appendFile(inRoot("etc/hosts"), "127.0.1.1\tfwcompat-vm\n");
  await writeFile(inRoot("etc/machine-id"), "");
  await $`chroot ${root} useradd -m -s /bin/bash vagrant`;
  await $`install -d -m 700 -o 1000 -g 1000 ${inRoot("home/vagrant/.ssh")}`;
  await $`install -m 600 -o 1000 -g 1000 ${pubkey} ${inRoot("home/vagrant/.ssh/authorized_keys")}`;
  await writeFile(inRoot("etc/sudoers.d/vagrant"), "vagrant ALL=(ALL) NOPASSWD: ALL\n");
  await chmod(inRoot("etc/sudoers.d/vagrant"), 0o440);
  await appendFile(inRoot("etc/ssh/sshd_config"), "UseDNS no\n");
  await writeFile(inRoot("etc/initramfs-tools/modules"), "virtio_pci\nvirtio_blk\nvirtio_net\next4\n");
  await $`sed -i ${"s/^MODULES=.*/MODULES=list/"} ${inRoot("etc/initramfs-tools/initramfs.conf")}`;
  await $`chroot ${root} update-initramfs -u -k all`;
  await rm(inRoot("var/lib/apt/lists"), { recursive: true, force: true });
  await mkdir(inRoot("var/lib/apt/lists"));
  for (const cache of (await readdir(inRoot("var/cache/apt"))).filter((f) => f.endsWith(".bin")))
    await rm(inRoot("var/cache/apt", cache));

  console.log("box: disk image");
  const box = join(work, "box");
  await mkdir(box);
  const newest = async (prefix) =>
    (await readdir(inRoot("boot")))
      .filter((f) => f.startsWith(prefix))
      .sort()
      .at(-1);
  await copyFile(inRoot("boot", await newest("vmlinuz-")), join(box, "vmlinuz"));
  await copyFile(inRoot("boot", await newest("initrd.img-")), join(box, "initrd.img"));
  const raw = join(work, "root.raw");
  await $`truncate -s 8G ${raw}`;
  await $`mkfs.ext4 -q -d ${root} ${raw}`;
  await $`qemu-img convert -O qcow2 ${raw} ${join(box, "box.img")}`;
  await writeFile(join(box, "metadata.json"), '{"provider":"libvirt","format":"qcow2","virtual_size":8}\n');
  await writeFile(
    join(box, "Vagrantfile"),
    `Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.kernel = File.join(File.dirname(__FILE__), "vmlinuz")
    libvirt.initrd = File.join(File.dirname(__FILE__), "initrd.img")
    libvirt.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0"
    libvirt.disk_bus = "virtio"
  end
end
`,
  );
  await $`tar -C ${box} -cf ${`${out}.part`} metadata.json Vagrantfile box.img vmlinuz initrd.img`;
  await rename(`${out}.part`, out);
  console.log(`box: ${out} (${Math.round((await stat(out)).size / 1048576)} MiB)`);
} finally {
  await unmount();
  await rm(work, { recursive: true, force: true });
}
