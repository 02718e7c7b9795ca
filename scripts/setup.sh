#!/usr/bin/env bash
# Installs what fwcompat needs on a Debian or Ubuntu machine (run as root), starts a Docker
# engine if none answers, and installs the Node dependencies. Safe to run again.
# --vm also installs the VM lane's Vagrant + libvirt + QEMU (libvirtd is started by the harness).
# Bash, not zx: it runs before the Node dependencies (zx among them) are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
vm=false
[ "${1:-}" = "--vm" ] && vm=true

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# the firewall test compares this machine's whole ruleset (nft list ruleset) before and after a run
command -v nft >/dev/null 2>&1 || missing+=(nftables)
# the unit tests compile the in-host iptables shim (host-files/*.c, static) with this machine's cc
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
# the report test looks at the HTML report in a real browser (GitHub's Ubuntu runners ship
# one as /usr/bin/chromium; Ubuntu's own chromium package is only a snap wrapper)
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
if $vm; then
  # dnsmasq-base is only a Recommends of libvirt, but its networks fail without it;
  # debian-archive-keyring lets debootstrap check the box's Debian packages on Ubuntu too
  for pkg in vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils dnsmasq-base debian-archive-keyring; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! timeout 5 docker info >/dev/null 2>&1; then
  # No systemd here: start dockerd ourselves and remember its PID so only it is stopped later.
  echo "setup: starting dockerd"
  nohup dockerd >/var/log/fwcompat-dockerd.log 2>&1 &
  echo $! > .fwcompat-dockerd.pid
  for _ in $(seq 1 60); do timeout 2 docker info >/dev/null 2>&1 && break; sleep 0.5; done
  timeout 5 docker info >/dev/null 2>&1 || { echo "setup: dockerd did not come up; see /var/log/fwcompat-dockerd.log" >&2; exit 1; }
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: ready (engine $(docker version --format '{{.Server.Version}}'))"
