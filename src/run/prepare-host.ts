import type { ScenarioContext } from "../api/scenario.js";
import { buildPrefix } from "../harness/images/recipes.js";
import { ENGINE_DIR } from "../harness/images/moby-recipe.js";
import { engineStep, firewallBackendInForce, mustStep, readIpForward, writeDaemonJson } from "../harness/host-ops.js";
import type { Evidence } from "../results/schema.js";

/** `key=value` lines of a provenance file. */
const keyValues = (text: string) =>
  new Map(
    text
      .split("\n")
      .map((line) => /^(\w+)=(.*)$/.exec(line))
      .flatMap((m) => (m ? [[m[1] as string, m[2] as string] as const] : [])),
  );

/**
 * Puts the cell's iptables build first on PATH, writes daemon.json, sets forwarding, starts
 * dockerd, records versions. A dockerd that refuses the cell's daemon.json throws an
 * EngineRefusal: the attempt records it as its result.
 */
export async function prepareHost(ctx: ScenarioContext): Promise<Evidence> {
  const { host, steps, cell, settings } = ctx;
  await mustStep(host, steps, "select iptables", `fwcompat-select-iptables ${cell.iptables.name} ${cell.backend}`);
  await writeDaemonJson(host, steps, ctx.current.daemonOptions);
  await mustStep(host, steps, "set ip_forward", `sysctl -qw net.ipv4.ip_forward=${cell.daemon.ipForwardAtStart ?? settings.ipForwardAtStart}`);
  const atStart = await readIpForward(host);
  await engineStep(host, steps, "start dockerd", "fwcompat-dockerd start", 60_000);
  const afterDockerd = await readIpForward(host);
  await mustStep(host, steps, "import workload image", "fwcompat-workload-image");
  const facts = await mustStep(
    host,
    steps,
    "versions",
    [
      "uname -r",
      "iptables --version",
      `sed -n 's/^package=//p' ${buildPrefix(cell.iptables)}/provenance`,
      "dockerd --version",
      "fwcompat-cprobe",
      "cat /run/fwcompat/cgroup 2>/dev/null || { test -e /sys/fs/cgroup/cgroup.controllers && echo v2 || echo v1; }",
      `cat ${ENGINE_DIR}/provenance 2>/dev/null || true`,
    ].join("; "),
  );
  const [kernel = "", iptablesVersion = "", iptablesPackage = "", dockerdVersion = "", probe = "", cgroup = "", ...rest] = facts.stdout.split("\n");
  const built = keyValues(rest.join("\n"));
  const firewallBackend = await firewallBackendInForce(host);
  return {
    hostMode: host.mode,
    kernel,
    iptablesVersion,
    iptablesPackage,
    backend: cell.backend,
    dockerdVersion,
    checkProbe: probe === "buggy" || probe === "correct" ? probe : "error",
    ipForward: { atStart, afterDockerd },
    cgroup,
    ...(firewallBackend ? { firewallBackend } : {}),
    ...(built.has("commit") ? { engineBuild: { tag: built.get("tag") ?? "", commit: built.get("commit") ?? "", go: built.get("go") ?? "" } } : {}),
  };
}
