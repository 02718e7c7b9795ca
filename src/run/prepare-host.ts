import type { ScenarioContext } from "../api/scenario.js";
import { parseProvenance } from "../harness/images/git-recipe.js";
import { buildPrefix } from "../harness/images/recipes.js";
import { mustStep, readIpForward, writeDaemonJson } from "../harness/host-ops.js";
import type { Evidence } from "../results/schema.js";

/** Puts the cell's iptables build first on PATH, writes daemon.json, sets forwarding, starts dockerd, records versions. */
export async function prepareHost(ctx: ScenarioContext): Promise<Evidence> {
  const { host, steps, cell, settings } = ctx;
  await mustStep(host, steps, "select iptables", `fwcompat-select-iptables ${cell.iptables.name} ${cell.backend}`);
  await writeDaemonJson(host, steps, ctx.current.daemonOptions);
  await mustStep(host, steps, "set ip_forward", `sysctl -qw net.ipv4.ip_forward=${settings.ipForwardAtStart}`);
  const atStart = await readIpForward(host);
  await mustStep(host, steps, "start dockerd", "fwcompat-dockerd start", 60_000);
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
    ].join("; "),
  );
  const [kernel = "", iptablesVersion = "", iptablesPackage = "", dockerdVersion = "", probe = "", cgroup = ""] = facts.stdout.split("\n");
  return {
    ...(await commitOfBuild(ctx)),
    hostMode: host.mode,
    kernel,
    iptablesVersion,
    iptablesPackage,
    backend: cell.backend,
    dockerdVersion,
    checkProbe: probe === "buggy" || probe === "correct" ? probe : "error",
    ipForward: { atStart, afterDockerd },
    cgroup,
  };
}

/** For a build from git, the commit its provenance file names (id, describe, subject, date). */
async function commitOfBuild(ctx: ScenarioContext): Promise<Pick<Evidence, "iptablesCommit">> {
  const read = await ctx.host.sh(`cat ${buildPrefix(ctx.cell.iptables)}/provenance`, 10_000);
  const fields = parseProvenance(read.stdout);
  const [commit, describe = "", subject = "", date = ""] = ["commit", "describe", "subject", "date"].map((key) => fields.get(key)?.[0]);
  return commit ? { iptablesCommit: { commit, describe, subject, date } } : {};
}
