import type { ScenarioContext } from "../api/scenario.js";
import { buildPrefix } from "../harness/images/recipes.js";
import { mustStep, startInnerEngine } from "../harness/host-ops.js";
import type { Evidence } from "../results/schema.js";

/** Starts the host's engine with the cell's iptables build, backend and daemon options, and records the versions. */
export async function prepareHost(ctx: ScenarioContext): Promise<Evidence> {
  const { host, steps, cell, settings } = ctx;
  const ipForward = await startInnerEngine(host, steps, {
    build: cell.iptables.name,
    backend: cell.backend,
    daemonOptions: ctx.current.daemonOptions,
    ipForwardAtStart: settings.ipForwardAtStart,
  });
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
    hostMode: host.mode,
    kernel,
    iptablesVersion,
    iptablesPackage,
    backend: cell.backend,
    dockerdVersion,
    checkProbe: probe === "buggy" || probe === "correct" ? probe : "error",
    ipForward,
    cgroup,
  };
}
