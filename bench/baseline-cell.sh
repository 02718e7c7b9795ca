#!/usr/bin/env bash
# What an operator would write by hand to check one cell: start a disposable host from the
# same host image, start its dockerd with the chosen iptables build (userland-proxy off),
# create the default bridge's container and 3 user networks with one published container
# each, probe the 4 ports from outside, from 127.0.0.1 and from the host's own address one
# after the other (3-s timeouts), and remove everything. No evidence, no trace, no verdict:
# the floor `npm run bench` compares one fwcompat attempt against.
#
# Usage: baseline-cell.sh HOST_IMAGE PEER_IMAGE IPTABLES_BUILD
# Environment: FWC_CAP_DROP  capabilities this engine cannot grant (comma separated; empty: privileged)
# Prints one line: "probes ok=N failed=M".
set -euo pipefail
image=$1 peer_image=$2 build=$3
id="bench-shell-$$"
labels=(--label "io.fwcompat.run=$id" --label "io.fwcompat.pid=$$" --label "io.fwcompat.hostname=$(hostname)")

cleanup() {
  docker rm -f "$id-host" "$id-peer" >/dev/null 2>&1 || true
  docker network rm "$id" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

if [ -n "${FWC_CAP_DROP:-}" ]; then
  power=(--cap-add ALL --cap-drop "$FWC_CAP_DROP" --security-opt seccomp=unconfined --security-opt apparmor=unconfined
    --security-opt systempaths=unconfined --device-cgroup-rule 'a *:* rwm')
else
  power=(--privileged)
fi

docker network create "${labels[@]}" --label io.fwcompat.role=network "$id" >/dev/null
docker run -d "${labels[@]}" --label io.fwcompat.role=peer --name "$id-peer" --network "$id" "$peer_image" tini -- sleep infinity >/dev/null
docker run -d "${labels[@]}" --label io.fwcompat.role=host --name "$id-host" --hostname fwc-host --network "$id" \
  --cgroupns private --tmpfs /var/lib/docker:rw,exec --tmpfs /run:rw,exec "${power[@]}" "$image" >/dev/null
until [ "$(docker exec "$id-host" cat /run/fwcompat/hostd 2>/dev/null)" = ready ]; do sleep 0.1; done
address=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$id\").IPAddress}}" "$id-host")

docker exec "$id-host" sh -ec "
  fwcompat-select-iptables $build nft >/dev/null
  printf '%s\n' '{\"bip\":\"10.77.0.1/24\",\"default-address-pools\":[{\"base\":\"10.78.0.0/16\",\"size\":24}],\"userland-proxy\":false}' > /etc/docker/daemon.json
  sysctl -qw net.ipv4.ip_forward=0
  fwcompat-dockerd start >/dev/null
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
  probe docker exec "$id-peer" curl -sf -m 3 "http://$address:$port/cgi-bin/id"
  probe docker exec "$id-host" curl -sf -m 3 "http://127.0.0.1:$port/cgi-bin/id"
  probe docker exec "$id-host" curl -sf -m 3 "http://$address:$port/cgi-bin/id"
done
echo "probes ok=$ok failed=$failed"
