#!/usr/bin/env bash
# Builds a libvirt Vagrant box offline: a debootstrapped Debian with its own kernel (direct
# kernel boot), the vagrant user and key, sudo, ssh, the distro's docker.io, and fwcompat's
# iptables builds and in-host tools copied from OVERLAY_DIR (same bits as the dind hosts).
# Usage: build-box.sh OUT.box SUITE MIRROR OVERLAY_DIR VAGRANT_PUBLIC_KEY
set -euo pipefail
out=$1 suite=$2 mirror=$3 overlay=$4 pubkey=$5
work=$(mktemp -d /var/tmp/fwcompat-box.XXXXXX)
root=$work/rootfs
cleanup() {
  for m in proc sys dev; do umount -l "$root/$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

packages=linux-image-amd64,systemd-sysv,udev,openssh-server,sudo,iproute2,iptables,docker.io,docker-cli,kmod,e2fsprogs,procps,busybox-static,curl,ca-certificates,tini,initramfs-tools
echo "box: debootstrap $suite"
debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
for m in proc sys dev; do umount -l "$root/$m" 2>/dev/null || true; done

echo "box: configure"
cp -a "$overlay"/. "$root"/
cat > "$root/etc/systemd/network/10-dhcp.network" <<NET
[Match]
Name=en* eth*
[Network]
DHCP=ipv4
NET
ln -sf /lib/systemd/system/systemd-networkd.service "$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
ln -sf /dev/null "$root/etc/systemd/system/systemd-networkd-wait-online.service"
for unit in docker.service docker.socket containerd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
echo "/dev/vda / ext4 defaults 0 1" > "$root/etc/fstab"
echo fwcompat-vm > "$root/etc/hostname"
# sudo resolves the hostname on every call; without this line each call waits for DNS to time out
printf '127.0.1.1\tfwcompat-vm\n' >> "$root/etc/hosts"
: > "$root/etc/machine-id"
chroot "$root" useradd -m -s /bin/bash vagrant
install -d -m 700 -o 1000 -g 1000 "$root/home/vagrant/.ssh"
install -m 600 -o 1000 -g 1000 "$pubkey" "$root/home/vagrant/.ssh/authorized_keys"
echo "vagrant ALL=(ALL) NOPASSWD: ALL" > "$root/etc/sudoers.d/vagrant"
chmod 440 "$root/etc/sudoers.d/vagrant"
echo "UseDNS no" >> "$root/etc/ssh/sshd_config"
printf 'virtio_pci\nvirtio_blk\nvirtio_net\next4\n' > "$root/etc/initramfs-tools/modules"
sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
chroot "$root" update-initramfs -u -k all > /dev/null 2>&1
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin

echo "box: disk image"
mkdir -p "$work/box"
cp "$(ls "$root"/boot/vmlinuz-* | tail -1)" "$work/box/vmlinuz"
cp "$(ls "$root"/boot/initrd.img-* | tail -1)" "$work/box/initrd.img"
truncate -s 8G "$work/root.raw"
mkfs.ext4 -q -d "$root" "$work/root.raw"
qemu-img convert -O qcow2 "$work/root.raw" "$work/box/box.img"
echo '{"provider":"libvirt","format":"qcow2","virtual_size":8}' > "$work/box/metadata.json"
cat > "$work/box/Vagrantfile" <<'VF'
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.kernel = File.join(File.dirname(__FILE__), "vmlinuz")
    libvirt.initrd = File.join(File.dirname(__FILE__), "initrd.img")
    libvirt.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0"
    libvirt.disk_bus = "virtio"
  end
end
VF
tar -C "$work/box" -cf "$out.part" metadata.json Vagrantfile box.img vmlinuz initrd.img
mv "$out.part" "$out"
echo "box: $out ($(du -h "$out" | cut -f1))"
