#!/usr/bin/env bash
# The plain shell cell: what an operator would write by hand to check one cell, the unit
# `npm run bench` measures fwcompat in. Start a disposable host from the same host image with
# the same capability options (its minimal init prepares cgroups); forwarding off; dockerd with
# the chosen iptables build first on PATH (no tracing shim) and userland-proxy off; load the
# workload image; create 3 networks and the 4 published containers (default bridge + one per
# network); probe the 4 ports one after the other with 3-s timeouts from this machine
# (external), from 127.0.0.1 and from the host's own address inside; remove the host.
# No peer container, no run network, no evidence, no verdict.
#
# Usage: baseline-cell.sh HOST_IMAGE IPTABLES_BUILD
# Environment: FWC_CAP_DROP  capabilities this engine cannot grant (comma separated; empty: privileged)
# Prints one line: "probes ok=N failed=M".
set -euo pipefail
image=$1 build=$2
id="bench-shell-$$"
labels=(--label "io.fwcompat.run=$id" --label "io.fwcompat.pid=$$" --label "io.fwcompat.hostname=$(hostname)")

trap 'docker rm -f "$id-host" >/dev/null 2>&1 || true' EXIT INT TERM

if [ -n "${FWC_CAP_DROP:-}" ]; then
  power=(--cap-add ALL --cap-drop "$FWC_CAP_DROP" --security-opt seccomp=unconfined --security-opt apparmor=unconfined
    --security-opt systempaths=unconfined --device-cgroup-rule 'a *:* rwm')
else
  power=(--privileged)
fi

docker run -d "${labels[@]}" --label io.fwcompat.role=host --name "$id-host" --hostname fwc-host \
  --cgroupns private --tmpfs /var/lib/docker:rw,exec --tmpfs /run:rw,exec "${power[@]}" "$image" >/dev/null
until [ "$(docker exec "$id-host" cat /run/fwcompat/hostd 2>/dev/null)" = ready ]; do sleep 0.1; done
address=$(docker inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}}' "$id-host")

docker exec "$id-host" sh -ec "
  sysctl -qw net.ipv4.ip_forward=0
  printf '%s\n' '{\"bip\":\"10.77.0.1/24\",\"default-address-pools\":[{\"base\":\"10.78.0.0/16\",\"size\":24}],\"userland-proxy\":false}' > /etc/docker/daemon.json
  PATH=/opt/fwcompat/iptables/$build/bin-nft:\$PATH setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  i=0; until docker version >/dev/null 2>&1; do [ \$i -lt 1500 ] || exit 1; sleep 0.02; i=\$((i + 1)); done
  fwcompat-workload-image >/dev/null
  docker run -d --name n0c1 --hostname n0c1 -p 8080:80 fwcompat/workload >/dev/null
  for n in 1 2 3; do
    docker network create fwc-net\$n >/dev/null
    docker run -d --name n\${n}c1 --hostname n\${n}c1 --network fwc-net\$n -p 808\$n:80 fwcompat/workload >/dev/null
  done
"

ok=0 failed=0
probe() { if "$@" >/dev/null 2>&1; then ok=$((ok + 1)); else failed=$((failed + 1)); fi; }
for port in 8080 8081 8082 8083; do
  probe curl -sf -m 3 "http://$address:$port/cgi-bin/id"
  probe docker exec "$id-host" curl -sf -m 3 "http://127.0.0.1:$port/cgi-bin/id"
  probe docker exec "$id-host" curl -sf -m 3 "http://$address:$port/cgi-bin/id"
done
echo "probes ok=$ok failed=$failed"
