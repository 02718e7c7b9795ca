import { curlCommand, HOST_FILES, iptablesSave, mustStep, runStep, TIMEOUT_MS } from "../src/api/index.js";
import type { Scenario } from "../src/api/index.js";
import { beforeDockerd, cellIptablesSystemWide, requireTools } from "./lib/host-setup.js";
import { tryUserActions } from "./lib/late-workload.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

/** How long dockerd gets to react to firewalld's Reloaded signal before the probes. */
const SETTLE_SECONDS = 5;

/**
 * firewalld needs the D-Bus system bus; without systemd both are started by hand, as the
 * units would: dbus-daemon, then firewalld with the variant's backend, waited for until it
 * answers. dockerd looks for firewalld on the bus when it starts, so this runs before it.
 */
const startFirewalld = (backend: string) =>
  [
    `sed -i 's/^FirewallBackend=.*/FirewallBackend=${backend}/' ${HOST_FILES.firewalldConf}`,
    `mkdir -p ${HOST_FILES.dbusRunDir} && dbus-daemon --system --fork </dev/null >/dev/null 2>&1`,
    `{ setsid firewalld --nofork </dev/null >${HOST_FILES.firewalldLog} 2>&1 & }`,
    "i=0; until firewall-cmd --state >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 300 ] && { echo 'firewalld did not come up in 30 s'; exit 1; }; sleep 0.1; done",
    `firewall-cmd --state && grep ^FirewallBackend ${HOST_FILES.firewalldConf} && dpkg-query -W -f='firewalld \${Version}\\n' firewalld`,
  ].join(" && ");

/**
 * firewalld (nftables or iptables backend) running before dockerd starts, as at boot; then
 * `firewall-cmd --reload` under a running dockerd. dockerd listens for the reload on D-Bus and
 * is meant to put its rules back by itself: the probes tell whether it did.
 */
export const firewalldReload: Scenario = {
  name: "firewalld-reload",
  variants: ["nftables", "iptables"],
  // firewalld's own default backend (and Debian's) since 0.6
  defaultVariant: "nftables",
  description:
    "firewalld (nftables | iptables backend) started before dockerd, then firewall-cmd --reload under it; does dockerd recover by itself",
  async setUp(ctx, variant = "nftables") {
    await requireTools(ctx, ["firewalld", "firewall-cmd", "dbus-daemon"]);
    await cellIptablesSystemWide(ctx);
    await beforeDockerd(ctx, () =>
      mustStep(
        ctx.host,
        ctx.steps,
        `start dbus and firewalld (${variant} backend)`,
        startFirewalld(variant),
        TIMEOUT_MS.hostFirewall,
      ),
    );
    await deployTopology(ctx);
    ctx.rulesBeforeBreak = await iptablesSave(ctx.host);
    // Evidence of the state before the reload: a host whose ports never worked is not one the reload broke.
    const first = ctx.targets[0];
    const before = `before the reload: host-ip :${first?.hostPort}`;
    const check = await runStep(
      ctx.host,
      ctx.steps,
      before,
      curlCommand(`http://${ctx.host.address}:${first?.hostPort}/cgi-bin/id`, ctx.settings.probeTimeoutMs),
    );
    if (check.stdout.trim() !== first?.container) {
      ctx.errors.push({
        step: before,
        signature: "broken-before-reload",
        text: `published port already unreachable with firewalld running, before any reload: ${(check.stderr || check.stdout).trim()}`,
      });
    }
    await mustStep(
      ctx.host,
      ctx.steps,
      "firewall-cmd --reload",
      `firewall-cmd --reload && sleep ${SETTLE_SECONDS}`,
      TIMEOUT_MS.hostFirewall,
    );
    await tryUserActions(ctx, "after reload");
  },
  async retry(ctx) {
    await tryUserActions(ctx, "after fix");
  },
  probes: standardProbes,
};
